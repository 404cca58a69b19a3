from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "shenbao.orgs"
    verbose_name = "组织与用户"

    def ready(self):
        from shenbao.core import jobs
        from shenbao.orgs import signals  # noqa: F401  (connects the login audit receivers)
        from shenbao.orgs.models import Role

        # The system administrator oversees every background job (core knows no roles).
        jobs.OVERSEERS.append(lambda user: user.has_role(Role.SYSTEM_ADMIN))

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "shenbao.orgs"
    verbose_name = "组织与用户"

    def ready(self):
        from shenbao.orgs import signals  # noqa: F401  (connects the login audit receivers)

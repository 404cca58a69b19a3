from django.apps import AppConfig


def applications_at(**row) -> int:
    """How many applications point to a call's project type or track (project_type=… or track=…): the
    calls app asks before a reload removes or changes one (calls.services.USAGE_COUNTERS)."""
    from shenbao.applications.models import Application

    return Application.objects.filter(**row).count()


class ApplicationsConfig(AppConfig):
    name = "shenbao.applications"
    verbose_name = "申报"

    def ready(self):
        from shenbao.calls import services as call_services

        if applications_at not in call_services.USAGE_COUNTERS:
            call_services.USAGE_COUNTERS.append(applications_at)

from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "shenbao.calls"
    verbose_name = "申报通知"

    def ready(self):
        from shenbao.calls.services import MEASURES
        from shenbao.orgs import catalogue

        if MEASURES not in catalogue.SECTIONS:
            catalogue.SECTIONS.append(MEASURES)

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shenbao.core"
    verbose_name = "核心"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "shenbao.demo"
    verbose_name = "演示"

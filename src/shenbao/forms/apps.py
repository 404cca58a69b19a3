from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "shenbao.forms"
    verbose_name = "申报表"

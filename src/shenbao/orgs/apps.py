from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "shenbao.orgs"
    verbose_name = "组织与用户"

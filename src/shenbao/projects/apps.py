from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "shenbao.projects"
    verbose_name = "项目"

from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "shenbao.review"
    verbose_name = "评审"

from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "shenbao.review"
    verbose_name = "评审"

    def ready(self):
        from shenbao.core import daily
        from shenbao.review import scoring

        # --- daily tasks (`shenbao daily`) ---
        daily.register("review.scoring_reminders", scoring.send_scoring_reminders)

from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "shenbao.review"
    verbose_name = "评审"

    def ready(self):
        from shenbao.core import daily
        from shenbao.review import scoring

        # --- daily tasks (`shenbao daily`) ---
        daily.register("review.scoring_reminders", scoring.send_scoring_reminders)

        # --- public notice (公示) and award: the call page shows the call's 公示 ---
        from shenbao.calls import page_hooks
        from shenbao.review.views_notice import call_section

        if call_section not in page_hooks.CALL_SECTIONS:
            page_hooks.CALL_SECTIONS.append(call_section)

        # --- the work bench: 待形式审查 for those who may screen ---
        from shenbao.applications import selectors as application_selectors
        from shenbao.review import screening

        application_selectors.register_todo(screening.todo)

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "shenbao.projects"
    verbose_name = "项目"

    def ready(self):
        from shenbao.applications import record
        from shenbao.projects.record import ProjectsRecord

        record.register(ProjectsRecord())  # bars and past projects for eligibility (R-E5, R-E6, R-E10)

        from shenbao.projects import services
        from shenbao.review import award_hooks

        award_hooks.register(services.create_from_award)  # the award list creates the projects

        # --- daily tasks (`shenbao daily`) ---
        from shenbao.core import daily
        from shenbao.projects import activities

        daily.register("projects.deliverable_reminders", activities.send_deliverable_reminders)

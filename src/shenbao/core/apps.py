from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shenbao.core"
    verbose_name = "核心"

    def ready(self):
        from django_tasks.signals import task_finished

        from shenbao.core import admin_audit, daily, jobs

        task_finished.connect(jobs.job_of_failed_task, dispatch_uid="shenbao.core.jobs.job_of_failed_task")
        daily.register("core.prune_task_effects", daily.prune_task_effects)  # R-S87
        admin_audit.install()  # Django admin changes go to the platform's audit log

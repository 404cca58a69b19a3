from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "shenbao.documents"
    verbose_name = "文档"

    def ready(self):
        # R-S85: what a killed worker left (partial uploads, rendered pages, half-moved scans) goes at start-up
        from shenbao.documents import uploads

        try:
            uploads.clean_stale()
        except OSError:  # a read-only or missing data dir must not stop the app from starting
            pass

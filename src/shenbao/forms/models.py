"""The form engine has no tables of its own: a form template is part of its call's document
(`calls.models.Call.document.forms`, typed by `calls.schema.FormTemplate`), loaded and versioned with it."""

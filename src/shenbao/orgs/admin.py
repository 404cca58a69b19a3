"""Raw data for the Django admin (superusers only); day-to-day work happens on the role pages."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from shenbao.orgs.models import AttributeDef, Category, Organisation, OrgAttribute, RoleAssignment, User


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "is_association", "level", "order"]
    search_fields = ["code", "name"]


@admin.register(AttributeDef)
class AttributeDefAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "yearly", "default"]


class OrgAttributeInline(admin.TabularInline):
    model = OrgAttribute
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "parent", "credit_code", "status", "submitted_at"]
    list_filter = ["status", "category"]
    search_fields = ["name", "credit_code"]
    raw_id_fields = ["parent"]
    inlines = [OrgAttributeInline]


@admin.register(OrgAttribute)
class OrgAttributeAdmin(admin.ModelAdmin):
    list_display = ["organisation", "key", "value", "year", "valid_from", "valid_to"]
    list_filter = ["key"]
    search_fields = ["organisation__name"]


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["organisation"]


@admin.register(User)
class ShenbaoUserAdmin(UserAdmin):
    list_display = ["username", "display_name", "organisation", "is_active", "must_change_password"]
    fieldsets = (*UserAdmin.fieldsets, ("申报平台", {"fields": ("organisation", "display_name", "phone",
                                                              "must_change_password", "password_changed_at")}))
    raw_id_fields = ["organisation"]
    inlines = [RoleInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organisation", "granted_at"]
    list_filter = ["role"]

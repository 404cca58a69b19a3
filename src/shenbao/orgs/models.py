"""Organisations as a tree with categories and dated attributes; users and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as AuthUserManager
from django.db import models
from django.utils.translation import gettext_noop  # choice labels: msgids, translated where shown

from shenbao.orgs.validators import validate_credit_code


class Category(models.Model):
    """申报单位类别, synced from calls/catalogue.yaml (and call files); a child is a kind of its parent."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    is_association = models.BooleanField(default=False)
    applicant = models.BooleanField("可注册为申报单位", default=True)
    level = models.CharField(max_length=20, default="none")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = verbose_name_plural = "单位类别"

    def __str__(self) -> str:
        return self.name

    def lineage(self) -> list[str]:
        """This category's code and its ancestors' codes."""
        out, node = [], self
        while node is not None:
            out.append(node.code)
            node = node.parent
        return out


class AttributeDef(models.Model):
    key = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    labels = models.JSONField(default=dict, blank=True)
    choices = models.JSONField(default=list, blank=True)
    yearly = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "单位属性定义"

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", gettext_noop("待审核")
        ACTIVE = "active", gettext_noop("已通过")
        REJECTED = "rejected", gettext_noop("已驳回")

    name = models.CharField("单位名称", max_length=200, unique=True,
                            error_messages={"unique": "该单位名称已注册，不能重复注册"})
    short_name = models.CharField("简称", max_length=100, blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="organisations",
                                 verbose_name="单位类别")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name="上级（属地科协或主管单位）")
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True, null=True, blank=True,
                                   validators=[validate_credit_code],
                                   error_messages={"unique": "该统一社会信用代码已注册，不能重复注册"})
    region = models.CharField("所在地区", max_length=100, blank=True)
    address = models.CharField("通信地址", max_length=300, blank=True)
    postcode = models.CharField("邮政编码", max_length=6, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField("审核意见", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # registration (项目申报用户注册): when the unit registered itself, and who decided on it
    submitted_at = models.DateTimeField("注册提交时间", null=True, blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey("orgs.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name="审核人")

    class Meta:
        ordering = ["id"]
        verbose_name = verbose_name_plural = "单位"

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Organisation]:
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out


class OrgAttribute(models.Model):
    """A dated fact about an organisation: grade 3A since 2019, rating A for 2025, station batch …"""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="attributes")
    key = models.CharField(max_length=64)
    value = models.JSONField()
    year = models.PositiveIntegerField(null=True, blank=True)  # for yearly attributes (ratings)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)  # null: still holds
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["key", "year", "valid_from", "id"]
        verbose_name = verbose_name_plural = "单位属性"

    def __str__(self) -> str:
        return f"{self.organisation} {self.key}={self.value}"


class Role(models.TextChoices):
    APPLICANT_CLERK = "applicant_clerk", gettext_noop("申报单位经办人")
    UNIT_HEAD = "unit_head", gettext_noop("单位负责人")
    HOME_REVIEWER = "home_reviewer", gettext_noop("属地科协审核人")
    FUNDER_STAFF = "funder_staff", gettext_noop("主办方业务人员")
    FUNDER_LEADER = "funder_leader", gettext_noop("主办方领导")
    FINANCE = "finance", gettext_noop("财务人员")
    EXPERT = "expert", gettext_noop("评审专家")
    SYSTEM_ADMIN = "system_admin", gettext_noop("系统管理员")
    SECURITY_ADMIN = "security_admin", gettext_noop("安全管理员")
    AUDIT_ADMIN = "audit_admin", gettext_noop("安全审计员")


ADMIN_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}


class UserManager(AuthUserManager):
    def get_by_natural_key(self, username):
        """The account a login names (authenticate reads it here), with `holds_admin_role`: whether it holds
        one of the three administrator roles, who need their second factor (orgs.otp.needs_second_factor)."""
        admin = RoleAssignment.objects.filter(user=models.OuterRef("pk"), role__in=sorted(ADMIN_ROLES))
        return self.annotate(holds_admin_role=models.Exists(admin)).get(**{self.model.USERNAME_FIELD: username})


class User(AbstractUser):
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="users", verbose_name="所属单位")
    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号码", max_length=30, blank=True)
    must_change_password = models.BooleanField("首次登录须修改密码", default=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # made by `shenbao demo`: marked on every page, and `shenbao demo` refuses a database with other accounts
    is_demo = models.BooleanField("演示账户", default=False)

    objects = UserManager()

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    def role_codes(self) -> set[str]:
        return set(self.roles.values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return self.roles.filter(role=role).exists()


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="role_assignments")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organisation"], name="uniq_role"),
            # 三权分立 in the data: an account holds at most one of the three administrator roles
            models.UniqueConstraint(fields=["user"], condition=models.Q(role__in=sorted(ADMIN_ROLES)),
                                    name="one_admin_role_per_user"),
        ]
        verbose_name = verbose_name_plural = "角色"

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"


class PasswordHistory(models.Model):
    """The hashes of an account's recent passwords: none of the last five may be chosen again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "历史密码"

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"


class AdminRequest(models.Model):
    """Maker and checker: a change to an administrator account that one administrator asks for and
    another approves (a new administrator, an administrator role granted or revoked, a second factor reset, an
    administrator account deactivated or activated again)."""

    class Kind(models.TextChoices):
        CREATE = "create", gettext_noop("新建管理员账户")
        GRANT = "grant", gettext_noop("授予管理员角色")
        REVOKE = "revoke", gettext_noop("撤销管理员角色")
        OTP_RESET = "otp_reset", gettext_noop("重置双因素验证")
        DEACTIVATE = "deactivate", gettext_noop("停用管理员账户")
        ACTIVATE = "activate", gettext_noop("启用管理员账户")

    class Status(models.TextChoices):
        PENDING = "pending", gettext_noop("待复核")
        APPROVED = "approved", gettext_noop("已批准")
        REJECTED = "rejected", gettext_noop("已驳回")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    target = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(default=dict, blank=True)  # a new account: username, display name, e-mail, phone
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = verbose_name_plural = "管理员账户变更申请"

    def __str__(self) -> str:
        who = self.target.username if self.target_id else self.details.get("username", "")
        return f"{self.get_kind_display()} {who}"

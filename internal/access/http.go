package access

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/web"
)

// HTTP serves users, tokens and the audit log on the admin API.
type HTTP struct {
	DB     *db.DB
	Users  *Users
	Tokens *Tokens
}

func principal(c echo.Context) Principal {
	p, _ := FromContext(c.Request().Context())
	return p
}

// CreateToken answers POST /api/v1/tokens: the token's secret is in this
// answer and nowhere else, ever.
func (h *HTTP) CreateToken(c echo.Context) error {
	var in NewToken
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	t, secret, err := h.Tokens.Create(c.Request().Context(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		*Token
		Secret string `json:"token"`
	}{t, secret})
}

// ListTokens answers GET /api/v1/tokens?organization_id=.
func (h *HTTP) ListTokens(c echo.Context) error {
	list, err := h.Tokens.List(c.Request().Context(), c.QueryParam("organization_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": list})
}

// RevokeToken answers DELETE /api/v1/tokens/{id}.
func (h *HTTP) RevokeToken(c echo.Context) error {
	if err := h.Tokens.Revoke(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// CreateUser answers POST /api/v1/users.
func (h *HTTP) CreateUser(c echo.Context) error {
	var in NewUser
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	u, err := h.Users.Create(c.Request().Context(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

// ListUsers answers GET /api/v1/users?organization_id=.
func (h *HTTP) ListUsers(c echo.Context) error {
	list, err := h.Users.List(c.Request().Context(), c.QueryParam("organization_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": list})
}

// GetUser answers GET /api/v1/users/{id}.
func (h *HTTP) GetUser(c echo.Context) error {
	u, err := h.Users.Get(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// PatchUser answers PATCH /api/v1/users/{id}: name, role, disabled,
// password.
func (h *HTTP) PatchUser(c echo.Context) error {
	var in UserPatch
	if err := web.Bind(c, &in); err != nil {
		return err
	}
	u, err := h.Users.Update(c.Request().Context(), principal(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// DeleteUser answers DELETE /api/v1/users/{id}.
func (h *HTTP) DeleteUser(c echo.Context) error {
	if err := h.Users.Delete(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Audit answers GET /api/v1/audit?organization_id=&since=&limit=: the
// events from since (RFC 3339; default the last 30 days), oldest first.
func (h *HTTP) Audit(c echo.Context) error {
	q := AuditQuery{OrganizationID: c.QueryParam("organization_id"), Since: h.Tokens.Now().AddDate(0, 0, -30)}
	if s := c.QueryParam("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return errs.E(errs.Invalid, "since must be a time in RFC 3339 (2026-12-01T00:00:00Z)")
		}
		q.Since = t
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return errs.E(errs.Invalid, "limit must be a number from 1 to 1000")
		}
		q.Limit = n
	}
	list, err := ListAudit(c.Request().Context(), h.DB.R, h.DB.Rebind, q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"events": list})
}

package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/dbtest"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/organization"
)

// An email taken, an organization missing and a user unknown are
// refused with their codes and messages, on each engine.
func TestUsersAndTokensRefuseWhatIsTakenOrMissing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		require.NoError(t, organization.NewStore(d, time.Now).Create(ctx, &organization.Organization{ID: "org_a", Name: "A", POMode: organization.POModeNone}))
		users := &access.Users{DB: d, Now: time.Now}
		tokens := &access.Tokens{DB: d, Now: time.Now}
		op := access.Principal{Kind: access.KindBootstrap, ID: "bootstrap", Role: access.Operator}

		nu := access.NewUser{Email: "Pat@A.example", Name: "Pat", OrganizationID: "org_a", Role: "admin", Password: "a long enough passphrase"}
		_, err := users.Create(ctx, op, nu)
		require.NoError(t, err)
		_, err = users.Create(ctx, op, nu)
		assert.Equal(t, errs.Conflict, errs.CodeOf(err), "%v", err)
		assert.Equal(t, "a user with the email pat@a.example exists already", errs.MessageOf(err))

		_, err = users.ByEmail(ctx, "nobody@a.example")
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%v", err)
		assert.Equal(t, "no user with email nobody@a.example", errs.MessageOf(err))

		for _, create := range []func() error{
			func() error {
				_, err := users.Create(ctx, op, access.NewUser{Email: "lee@b.example", Name: "Lee", OrganizationID: "org_nope", Role: "viewer"})
				return err
			},
			func() error {
				_, _, err := tokens.Create(ctx, op, access.NewToken{Name: "ci", OrganizationID: "org_nope", Role: "viewer"})
				return err
			},
		} {
			err := create()
			assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%v", err)
			assert.Equal(t, "organization org_nope not found", errs.MessageOf(err))
		}
	})
}

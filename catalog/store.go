package catalog

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cxmlgate/punchout/internal/access"
	"github.com/cxmlgate/punchout/internal/db"
	"github.com/cxmlgate/punchout/internal/errs"
	"github.com/cxmlgate/punchout/internal/money"
	"github.com/cxmlgate/punchout/organization"
)

// Store keeps the catalog.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// NewStore returns the catalog store; now is its clock.
func NewStore(d *db.DB, now func() time.Time) *Store { return &Store{db: d, now: now} }

type offerRow struct {
	ID             string     `db:"id"`
	ProductID      string     `db:"product_id"`
	PricingModel   string     `db:"pricing_model"`
	Currency       string     `db:"currency"`
	Price          string     `db:"price"`
	DurationMonths int        `db:"duration_months"`
	Schedule       string     `db:"schedule"`
	Dimensions     string     `db:"dimensions"`
	PrivateTo      *string    `db:"private_to_organization_id"`
	ExpiresAt      *time.Time `db:"expires_at"`
	Revision       int        `db:"revision"`
	UpdatedAt      time.Time  `db:"updated_at"`
}

const offerColumns = `id, product_id, pricing_model, currency, price, duration_months, schedule, dimensions,
	private_to_organization_id, expires_at, revision, updated_at`

// joinedOfferColumns is offerColumns qualified by the alias o, for a join.
var joinedOfferColumns = offerColumnsOf("o")

func offerColumnsOf(alias string) string {
	cols := strings.Split(offerColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// toRow writes an offer's amounts the one way every table stores money
// (package money): decimal text with the currency's own decimals, beside
// the currency, here inside the schedule and dimension JSON too. Unit
// prices of usage are rates, kept exact.
func toRow(o *Offer, now time.Time) (*offerRow, error) {
	sched, err := json.Marshal(nonNil(o.Schedule))
	if err != nil {
		return nil, err
	}
	dims, err := json.Marshal(nonNil(o.Dimensions))
	if err != nil {
		return nil, err
	}
	r := &offerRow{
		ID: o.ID, ProductID: o.ProductID, PricingModel: string(o.PricingModel), Currency: o.Currency,
		DurationMonths: o.DurationMonths, Schedule: string(sched), Dimensions: string(dims),
		Revision: o.Revision, UpdatedAt: now,
	}
	if o.PricingModel == Upfront || o.PricingModel == Annual {
		r.Price = o.Price.String()
	}
	if o.PrivateToOrganizationID != "" {
		r.PrivateTo = &o.PrivateToOrganizationID
	}
	if o.ExpiresAt != nil {
		t := o.ExpiresAt.UTC()
		r.ExpiresAt = &t
	}
	return r, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (r *offerRow) offer() (Offer, error) {
	o := Offer{
		ID: r.ID, ProductID: r.ProductID, PricingModel: PricingModel(r.PricingModel), Currency: r.Currency,
		DurationMonths: r.DurationMonths, Revision: r.Revision,
	}
	if r.Price != "" {
		p, err := money.ParseBare(r.Price)
		if err != nil {
			return o, err
		}
		o.Price = p
	}
	// Most offers have neither; their "[]" is stored as written.
	o.Schedule, o.Dimensions = []Installment{}, []Dimension{}
	if r.Schedule != "[]" {
		if err := json.Unmarshal([]byte(r.Schedule), &o.Schedule); err != nil {
			return o, err
		}
	}
	if r.Dimensions != "[]" {
		if err := json.Unmarshal([]byte(r.Dimensions), &o.Dimensions); err != nil {
			return o, err
		}
	}
	if err := o.place(); err != nil {
		return o, err
	}
	if r.PrivateTo != nil {
		o.PrivateToOrganizationID = *r.PrivateTo
	}
	if r.ExpiresAt != nil {
		t := r.ExpiresAt.UTC()
		o.ExpiresAt = &t
	}
	return o, nil
}

// sameTerms reports whether two rows offer the same terms; a change in
// terms is a revision.
func sameTerms(a, b *offerRow) bool {
	eqTime := func(x, y *time.Time) bool {
		return (x == nil && y == nil) || (x != nil && y != nil && x.Equal(*y))
	}
	eqStr := func(x, y *string) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	eqDec := func(x, y string) bool {
		a, errA := money.ParseBare(x)
		b, errB := money.ParseBare(y)
		return errA == nil && errB == nil && a.Equal(b) || x == y
	}
	return a.ProductID == b.ProductID && a.PricingModel == b.PricingModel && a.Currency == b.Currency &&
		eqDec(a.Price, b.Price) && a.DurationMonths == b.DurationMonths && canonJSON(a.Schedule) == canonJSON(b.Schedule) &&
		canonJSON(a.Dimensions) == canonJSON(b.Dimensions) && eqStr(a.PrivateTo, b.PrivateTo) && eqTime(a.ExpiresAt, b.ExpiresAt)
}

// canonJSON normalizes decimals inside the schedule and dimension JSON so
// that "100.0" and "100" compare equal.
func canonJSON(s string) string {
	var v []map[string]any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	for _, m := range v {
		for k, x := range m {
			if str, ok := x.(string); ok {
				if a, err := money.ParseBare(str); err == nil && a.IsSet() && k != "due" {
					m[k] = a.Decimal().String()
				}
			}
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ImportResult counts what an import changed.
type ImportResult struct {
	ProductsCreated int `json:"products_created"`
	ProductsUpdated int `json:"products_updated"`
	OffersCreated   int `json:"offers_created"`
	OffersRevised   int `json:"offers_revised"`
	OffersUnchanged int `json:"offers_unchanged"`
}

// Import loads products and offers, all or nothing. It is idempotent: the
// same file twice changes nothing. An offer whose terms change gets the
// next revision (or the file's, if higher), so that orders for quotes of
// the earlier revision are refused.
func (s *Store) Import(ctx context.Context, f *File) (*ImportResult, error) {
	seenP := map[string]bool{}
	for i := range f.Products {
		if err := f.Products[i].Validate(); err != nil {
			return nil, err
		}
		if seenP[f.Products[i].ID] {
			return nil, errs.E(errs.Invalid, "product %s is listed twice", f.Products[i].ID)
		}
		seenP[f.Products[i].ID] = true
	}
	seenO := map[string]bool{}
	for i := range f.Offers {
		if err := f.Offers[i].Validate(); err != nil {
			return nil, err
		}
		if seenO[f.Offers[i].ID] {
			return nil, errs.E(errs.Invalid, "offer %s is listed twice", f.Offers[i].ID)
		}
		seenO[f.Offers[i].ID] = true
	}
	res := &ImportResult{}
	now := s.now().UTC()
	err := s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		for _, p := range f.Products {
			var exists int
			err := tx.GetContext(ctx, &exists, tx.Rebind(`SELECT COUNT(*) FROM products WHERE id = ?`), p.ID)
			if err != nil {
				return err
			}
			if exists == 0 {
				res.ProductsCreated++
			} else {
				res.ProductsUpdated++
			}
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO products (id, name, vendor, type, unspsc, description, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, vendor = excluded.vendor, type = excluded.type,
					unspsc = excluded.unspsc, description = excluded.description, updated_at = excluded.updated_at`),
				p.ID, p.Name, p.Vendor, p.Type, p.UNSPSC, p.Description, now)
			if err != nil {
				return err
			}
		}
		for i := range f.Offers {
			o := &f.Offers[i]
			var pexists int
			if err := tx.GetContext(ctx, &pexists, tx.Rebind(`SELECT COUNT(*) FROM products WHERE id = ?`), o.ProductID); err != nil {
				return err
			}
			if pexists == 0 {
				return errs.E(errs.Invalid, "offer %s: product %s is neither in the file nor in the catalog", o.ID, o.ProductID)
			}
			if o.PrivateToOrganizationID != "" {
				if _, err := organization.Get(ctx, tx, o.PrivateToOrganizationID); errs.Is(err, errs.NotFound) {
					return errs.E(errs.Invalid, "offer %s: private_to_organization_id %s is not an organization", o.ID, o.PrivateToOrganizationID)
				} else if err != nil {
					return err
				}
			}
			row, err := toRow(o, now)
			if err != nil {
				return err
			}
			var old offerRow
			err = tx.GetContext(ctx, &old, tx.Rebind(`SELECT `+offerColumns+` FROM offers WHERE id = ?`), o.ID)
			switch {
			case db.IsNoRows(err):
				row.Revision = max(1, o.Revision)
				res.OffersCreated++
				_, err = sqlx.NamedExecContext(ctx, tx, `INSERT INTO offers (`+offerColumns+`) VALUES (:id, :product_id, :pricing_model,
					:currency, :price, :duration_months, :schedule, :dimensions, :private_to_organization_id, :expires_at, :revision, :updated_at)`, row)
				if err != nil {
					return err
				}
			case err != nil:
				return err
			case sameTerms(row, &old) && o.Revision <= old.Revision:
				res.OffersUnchanged++
			default:
				row.Revision = max(o.Revision, old.Revision+1)
				res.OffersRevised++
				_, err = sqlx.NamedExecContext(ctx, tx, `UPDATE offers SET product_id = :product_id, pricing_model = :pricing_model,
					currency = :currency, price = :price, duration_months = :duration_months, schedule = :schedule,
					dimensions = :dimensions, private_to_organization_id = :private_to_organization_id,
					expires_at = :expires_at, revision = :revision, updated_at = :updated_at WHERE id = :id`, row)
				if err != nil {
					return err
				}
			}
		}
		if res.ProductsCreated+res.ProductsUpdated+res.OffersCreated+res.OffersRevised == 0 {
			return nil // Nothing changed.
		}
		return access.Record(ctx, tx, "", "catalog.import", "catalog", "import", access.Diff(nil, res), s.now())
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// GetOffer returns an offer and its product, or NotFound.
func (s *Store) GetOffer(ctx context.Context, q sqlx.ExtContext, offerID string) (*Product, *Offer, error) {
	if q == nil {
		q = s.db.R
	}
	var r offerRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+offerColumns+` FROM offers WHERE id = ?`), offerID)
	if err != nil {
		return nil, nil, db.Translate(err, "offer %s does not exist", offerID)
	}
	o, err := r.offer()
	if err != nil {
		return nil, nil, err
	}
	p, err := s.getProduct(ctx, q, o.ProductID)
	if err != nil {
		return nil, nil, err
	}
	return p, &o, nil
}

func (s *Store) getProduct(ctx context.Context, q sqlx.ExtContext, productID string) (*Product, error) {
	var p Product
	err := sqlx.GetContext(ctx, q, &p, q.Rebind(`SELECT id, name, vendor, type, unspsc, description FROM products WHERE id = ?`), productID)
	if err != nil {
		return nil, db.Translate(err, "product %s does not exist", productID)
	}
	return &p, nil
}

// Browse returns the products an organization's users may see, each with
// the offers visible to the organization, matching query (in name,
// vendor or description; empty for all), sorted by name. With the
// organization's private marketplace enabled, only the products it
// allows are listed.
func (s *Store) Browse(ctx context.Context, orgID, query string) ([]Listing, error) {
	q := `SELECT p.id, p.name, p.vendor, p.type, p.unspsc, p.description FROM products p WHERE 1 = 1`
	var args []any
	if query = strings.TrimSpace(query); query != "" {
		like := "%" + strings.ToLower(escapeLike(query)) + "%"
		q += ` AND (LOWER(p.name) LIKE ? ESCAPE '\' OR LOWER(p.vendor) LIKE ? ESCAPE '\' OR LOWER(p.description) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	q += ` AND (NOT EXISTS (SELECT 1 FROM private_marketplaces m WHERE m.organization_id = ? AND m.enabled)
		OR EXISTS (SELECT 1 FROM private_marketplace_products a WHERE a.organization_id = ? AND a.product_id = p.id))`
	args = append(args, orgID, orgID)
	q += ` ORDER BY LOWER(p.name), p.id`
	var products []Product
	if err := s.db.R.SelectContext(ctx, &products, s.db.Rebind(q), args...); err != nil {
		return nil, err
	}
	if len(products) == 0 {
		return []Listing{}, nil
	}
	ids := make([]string, len(products))
	for i, p := range products {
		ids[i] = p.ID
	}
	oq, oargs, err := sqlx.In(`SELECT `+offerColumns+` FROM offers WHERE product_id IN (?)
		AND (private_to_organization_id IS NULL OR private_to_organization_id = ?) ORDER BY product_id, id`, ids, orgID)
	if err != nil {
		return nil, err
	}
	var rows []offerRow
	if err := s.db.R.SelectContext(ctx, &rows, s.db.Rebind(oq), oargs...); err != nil {
		return nil, err
	}
	byProduct := map[string][]Offer{}
	for i := range rows {
		o, err := rows[i].offer()
		if err != nil {
			return nil, err
		}
		byProduct[o.ProductID] = append(byProduct[o.ProductID], o)
	}
	out := make([]Listing, 0, len(products))
	for _, p := range products {
		out = append(out, Listing{Product: p, Offers: byProduct[p.ID]})
	}
	return out, nil
}

// Product returns one product with the offers visible to orgID, honouring
// the private marketplace; NotFound when the organization may not see it.
func (s *Store) Product(ctx context.Context, orgID, productID string) (*Listing, error) {
	all, err := s.Browse(ctx, orgID, "")
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Product.ID == productID {
			return &all[i], nil
		}
	}
	return nil, errs.E(errs.NotFound, "product %s is not in your catalog", productID)
}

// Allowed reports whether orgID's private marketplace (if enabled) allows
// the product.
func (s *Store) Allowed(ctx context.Context, q sqlx.ExtContext, orgID, productID string) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, q.Rebind(`SELECT CASE
		WHEN NOT EXISTS (SELECT 1 FROM private_marketplaces WHERE organization_id = ? AND enabled) THEN 1
		WHEN EXISTS (SELECT 1 FROM private_marketplace_products WHERE organization_id = ? AND product_id = ?) THEN 1
		ELSE 0 END`), orgID, orgID, productID)
	return n == 1, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// PrivateMarketplace is an organization's curated catalog.
type PrivateMarketplace struct {
	OrganizationID string   `json:"organization_id"`
	Enabled        bool     `json:"enabled"`
	ProductIDs     []string `json:"product_ids"`
}

// SetPrivateMarketplace replaces an organization's private marketplace.
func (s *Store) SetPrivateMarketplace(ctx context.Context, pm *PrivateMarketplace) error {
	before, err := s.GetPrivateMarketplace(ctx, pm.OrganizationID)
	if err != nil {
		return err
	}
	return s.db.Transact(ctx, func(tx *sqlx.Tx) error {
		if _, err := organization.Get(ctx, tx, pm.OrganizationID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM private_marketplace_products WHERE organization_id = ?`), pm.OrganizationID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO private_marketplaces (organization_id, enabled, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (organization_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`),
			pm.OrganizationID, pm.Enabled, s.now().UTC())
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, pid := range pm.ProductIDs {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			if _, err := s.getProduct(ctx, tx, pid); err != nil {
				return errs.E(errs.Invalid, "product_ids: %s is not in the catalog", pid)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO private_marketplace_products (organization_id, product_id) VALUES (?, ?)`),
				pm.OrganizationID, pid); err != nil {
				return err
			}
		}
		return access.Record(ctx, tx, pm.OrganizationID, "private_marketplace.update", "private_marketplace", pm.OrganizationID, access.Diff(before, pm), s.now())
	})
}

// GetPrivateMarketplace returns an organization's private marketplace
// (disabled and empty when never set).
func (s *Store) GetPrivateMarketplace(ctx context.Context, orgID string) (*PrivateMarketplace, error) {
	pm := &PrivateMarketplace{OrganizationID: orgID, ProductIDs: []string{}}
	err := s.db.R.GetContext(ctx, &pm.Enabled, s.db.Rebind(`SELECT enabled FROM private_marketplaces WHERE organization_id = ?`), orgID)
	if err != nil && !db.IsNoRows(err) {
		return nil, err
	}
	if err := s.db.R.SelectContext(ctx, &pm.ProductIDs, s.db.Rebind(`SELECT product_id FROM private_marketplace_products WHERE organization_id = ? ORDER BY product_id`), orgID); err != nil {
		return nil, err
	}
	return pm, nil
}

// GetOffers returns offers and their products by ID, in one query; IDs
// that do not exist are absent from the maps.
func (s *Store) GetOffers(ctx context.Context, q sqlx.ExtContext, offerIDs []string) (map[string]*Offer, map[string]*Product, error) {
	if q == nil {
		q = s.db.R
	}
	offers, products := map[string]*Offer{}, map[string]*Product{}
	if len(offerIDs) == 0 {
		return offers, products, nil
	}
	oq, args, err := sqlx.In(`SELECT `+joinedOfferColumns+`,
		p.name AS product_name, p.vendor AS product_vendor, p.type AS product_type, p.unspsc AS product_unspsc,
		p.description AS product_description
		FROM offers o JOIN products p ON p.id = o.product_id WHERE o.id IN (?)`, offerIDs)
	if err != nil {
		return nil, nil, err
	}
	var rows []struct {
		offerRow
		ProductName        string      `db:"product_name"`
		ProductVendor      string      `db:"product_vendor"`
		ProductType        ProductType `db:"product_type"`
		ProductUNSPSC      string      `db:"product_unspsc"`
		ProductDescription string      `db:"product_description"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(oq), args...); err != nil {
		return nil, nil, err
	}
	for i := range rows {
		r := &rows[i]
		o, err := r.offer()
		if err != nil {
			return nil, nil, err
		}
		offers[o.ID] = &o
		if _, ok := products[o.ProductID]; !ok {
			products[o.ProductID] = &Product{ID: o.ProductID, Name: r.ProductName, Vendor: r.ProductVendor, Type: r.ProductType,
				UNSPSC: r.ProductUNSPSC, Description: r.ProductDescription}
		}
	}
	return offers, products, nil
}

// OfferVersion is what makes an approved offer still orderable: its
// revision and its expiry.
type OfferVersion struct {
	Revision  int        `db:"revision"`
	ExpiresAt *time.Time `db:"expires_at"`
}

// OfferVersions returns the current version of each offer by ID, through q
// (an order's write transaction checks that nothing changed since it
// validated its lines); IDs that do not exist are absent.
func (s *Store) OfferVersions(ctx context.Context, q sqlx.ExtContext, offerIDs []string) (map[string]OfferVersion, error) {
	out := map[string]OfferVersion{}
	if len(offerIDs) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT id, revision, expires_at FROM offers WHERE id IN (?)`, offerIDs)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID string `db:"id"`
		OfferVersion
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.OfferVersion
	}
	return out, nil
}

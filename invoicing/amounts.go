package invoicing

// Amounts are stored as package money says: decimal text beside the
// row's currency column. A column is scanned into a bare money.Amount
// (it cannot see the currency beside it), so every read of agreements,
// charges, invoices and PO line items places its rows' amounts in their
// currency, through the type's place method, before they leave the
// store.

// placeAll places the amounts of rows read from a table.
func placeAll[T any, P interface {
	*T
	place() error
}](rows []T) error {
	for i := range rows {
		if err := P(&rows[i]).place(); err != nil {
			return err
		}
	}
	return nil
}

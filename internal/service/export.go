package service

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
)

// ExportFormats are the formats Export writes; the first is the default.
var ExportFormats = []string{"yaml", "json", "csv", "cyclonedx"}

// ExportKinds are the tables a CSV export writes; the first is the default.
var ExportKinds = []string{"vendors", "systems", "flows"}

// ExportOptions say what Export writes.
type ExportOptions struct {
	// Format is one of ExportFormats ("": yaml).
	Format string
	// Kind is, for csv, one of ExportKinds ("": vendors).
	Kind string
	// Strict exports weaklink's extension categories as their upstream
	// fideslang parents (cyclonedx).
	Strict bool
	// Timestamp and ToolVersion go into a CycloneDX BOM's metadata.
	Timestamp   time.Time
	ToolVersion string
}

// Check refuses an unknown format or kind (ErrInvalid, naming the choices).
func (o ExportOptions) Check() error {
	if o.Format != "" {
		if err := CheckChoice("format", o.Format, ExportFormats); err != nil {
			return err
		}
	}
	if o.Kind != "" {
		return CheckChoice("kind", o.Kind, ExportKinds)
	}
	return nil
}

// Export writes the stored inventory, read in one snapshot: YAML is
// inventory-as-code and JSON adds store metadata (apply reads either back
// as a no-op); CSV writes one table; CycloneDX a 1.6 BOM. The CLI's
// `export` and the web's exports call it.
func (s *Service) Export(ctx context.Context, w io.Writer, o ExportOptions) error {
	if err := o.Check(); err != nil {
		return err
	}
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return err
	}
	switch o.Format {
	case "", "yaml":
		return inventory.WriteYAML(w, snap.Inventory, fmt.Sprintf("weaklink inventory, exported from %s at version %d", s.Store.Backend(), snap.Version))
	case "json":
		return inventory.WriteJSON(w, snap.Inventory)
	case "csv":
		switch o.Kind {
		case "systems":
			return inventory.WriteSystemsCSV(w, snap.Systems)
		case "flows":
			return inventory.WriteFlowsCSV(w, snap.Flows)
		}
		return inventory.WriteVendorsCSV(w, snap.Vendors)
	}
	return inventory.WriteCycloneDX(w, snap.Inventory, inventory.CycloneDXOptions{
		Timestamp: o.Timestamp, ToolVersion: o.ToolVersion, Taxonomy: s.Checker.Taxonomy, Strict: o.Strict,
	})
}

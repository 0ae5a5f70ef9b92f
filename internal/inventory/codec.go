package inventory

import (
	"encoding/json"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// WriteYAML writes an inventory as inventory-as-code: one YAML document that
// apply reads back to the same inventory. Store metadata is left out.
func WriteYAML(w io.Writer, inv Inventory, header string) error {
	inv.Sort()
	if header != "" {
		if _, err := fmt.Fprintf(w, "# %s\n", header); err != nil {
			return err
		}
	}
	doc := struct {
		Version int      `yaml:"version"`
		Vendors []Vendor `yaml:"vendors"`
		Systems []System `yaml:"systems"`
		Flows   []Flow   `yaml:"flows"`
	}{1, inv.Vendors, inv.Systems, inv.Flows}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// WriteJSON writes an inventory as JSON with store metadata (revision and
// timestamps). apply reads it back, ignoring the metadata.
func WriteJSON(w io.Writer, inv Inventory) error {
	inv.Sort()
	if inv.Vendors == nil {
		inv.Vendors = []Vendor{}
	}
	if inv.Systems == nil {
		inv.Systems = []System{}
	}
	if inv.Flows == nil {
		inv.Flows = []Flow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Version int `json:"version"`
		Inventory
	}{1, inv})
}

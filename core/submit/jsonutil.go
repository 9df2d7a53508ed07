package submit

import (
	"encoding/json"
	"fmt"
)

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("submit: encode: %w", err)
	}
	return append(b, '\n'), nil
}

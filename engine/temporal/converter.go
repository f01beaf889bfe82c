package temporal

import (
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/cloudbutton/cloudbutton/codec"
)

// rawJSONConverter is a payload converter for the JSON codec: a []byte
// value (bytes our codec produced) becomes a "json/plain" payload whose
// data is exactly those bytes, and a "json/plain" payload decodes into a
// *[]byte unchanged. Other values (the adapter's own records, SDK marker
// details) are encoded with encoding/json. Payloads therefore round-trip
// byte for byte, and the Temporal UI and CLI show them as JSON.
type rawJSONConverter struct{}

func (rawJSONConverter) ToPayload(value any) (*commonpb.Payload, error) {
	var data []byte
	switch v := value.(type) {
	case []byte:
		data = v
	case *[]byte:
		data = *v
	default:
		var err error
		if data, err = json.Marshal(value); err != nil {
			return nil, fmt.Errorf("temporal: encode %T as JSON: %w", value, err)
		}
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     data,
	}, nil
}

func (rawJSONConverter) FromPayload(p *commonpb.Payload, ptr any) error {
	if b, ok := ptr.(*[]byte); ok {
		*b = append([]byte(nil), p.GetData()...)
		return nil
	}
	if err := json.Unmarshal(p.GetData(), ptr); err != nil {
		return fmt.Errorf("temporal: decode JSON payload into %T: %w", ptr, err)
	}
	return nil
}

func (rawJSONConverter) ToString(p *commonpb.Payload) string { return string(p.GetData()) }

func (rawJSONConverter) Encoding() string { return converter.MetadataEncodingJSON }

// DataConverter returns the Temporal data converter for c. With the JSON
// codec, codec bytes travel as "json/plain" payloads, unchanged; with any
// other codec they travel as "binary/plain" payloads, unchanged. Either
// way a value encoded by c decodes identically on both engines.
func DataConverter(c codec.Codec) converter.DataConverter {
	if c == nil || c.Name() == codec.JSON.Name() {
		return converter.NewCompositeDataConverter(
			converter.NewNilPayloadConverter(),
			rawJSONConverter{},
		)
	}
	return converter.GetDefaultDataConverter()
}

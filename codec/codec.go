// Package codec encodes and decodes the payloads that cross an engine
// boundary: orchestration inputs and outputs, activity inputs and results,
// event payloads and side-effect values.
//
// JSON is the default. A codec is pluggable: engines and workers take one in
// their options. Every payload is bounded in size; exceeding the bound is a
// *SizeError that names the size and the limit.
//
// Codecs are safe for concurrent use.
package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// DefaultMaxPayload is the payload size limit used when none is configured:
// 2 MiB, well under AWS Lambda's 6 MB synchronous invocation limit.
const DefaultMaxPayload = 2 << 20

// ErrPayloadTooLarge is matched (errors.Is) by every *SizeError.
var ErrPayloadTooLarge = errors.New("codec: payload too large")

// ErrDecode is matched (errors.Is) by every *DecodeError.
var ErrDecode = errors.New("codec: cannot decode payload")

// Codec turns Go values into bytes and back.
type Codec interface {
	// Name identifies the codec in stored data, e.g. "json".
	Name() string
	// Encode returns the encoded form of v.
	Encode(v any) ([]byte, error)
	// Decode decodes data into the value pointed to by ptr.
	Decode(data []byte, ptr any) error
}

// JSON is the default codec: encoding/json.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Encode(v any) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec) Decode(data []byte, ptr any) error {
	if len(data) == 0 {
		data = []byte("null")
	}
	return json.Unmarshal(data, ptr)
}

// SizeError reports a payload over the configured limit.
type SizeError struct {
	What  string // what the payload is, e.g. `input of activity "count-words"`
	Size  int    // its encoded size in bytes
	Limit int    // the limit in bytes
}

// Error names the payload, its size and the limit.
func (e *SizeError) Error() string {
	return fmt.Sprintf("codec: %s is %d bytes, over the payload limit of %d bytes", e.What, e.Size, e.Limit)
}

// Is reports whether target is ErrPayloadTooLarge.
func (e *SizeError) Is(target error) bool { return target == ErrPayloadTooLarge }

// DecodeError reports a payload that does not decode into the declared type.
type DecodeError struct {
	What string // what the payload is
	Type string // the Go type it was decoded into
	Err  error  // the codec's error
}

// Error names the payload and the type it did not decode into.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("codec: %s does not decode into %s: %v", e.What, e.Type, e.Err)
}

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrDecode.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// EncodeError reports a value the codec cannot encode.
type EncodeError struct {
	What string
	Type string
	Err  error
}

// Error names the value that could not be encoded.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("codec: %s of type %s cannot be encoded: %v", e.What, e.Type, e.Err)
}

// Unwrap returns the codec's error.
func (e *EncodeError) Unwrap() error { return e.Err }

// Limits bounds payload sizes. The zero value means DefaultMaxPayload.
type Limits struct {
	MaxPayload int
}

// Max returns the effective limit.
func (l Limits) Max() int {
	if l.MaxPayload <= 0 {
		return DefaultMaxPayload
	}
	return l.MaxPayload
}

// Encode encodes v with c and checks the result against the limit. what
// names the payload in errors.
func Encode(c Codec, lim Limits, what string, v any) ([]byte, error) {
	return encode(c, lim, v, func() string { return what })
}

// Decode decodes data with c into a new T. what names the payload in errors.
func Decode[T any](c Codec, what string, data []byte) (T, error) {
	return decode[T](c, data, func() string { return what })
}

func encode(c Codec, lim Limits, v any, what func() string) ([]byte, error) {
	data, err := c.Encode(v)
	if err != nil {
		return nil, &EncodeError{What: what(), Type: fmt.Sprintf("%T", v), Err: err}
	}
	if max := lim.Max(); len(data) > max {
		return nil, &SizeError{What: what(), Size: len(data), Limit: max}
	}
	return data, nil
}

func decode[T any](c Codec, data []byte, what func() string) (T, error) {
	var v T
	if err := c.Decode(data, &v); err != nil {
		// The declared type, not the value's: %T of a nil interface
		// value (T = any, error...) is "<nil>".
		return v, &DecodeError{What: what(), Type: reflect.TypeFor[T]().String(), Err: err}
	}
	return v, nil
}

// CheckSize returns a *SizeError if data is over the limit.
func CheckSize(lim Limits, what string, data []byte) error {
	if max := lim.Max(); len(data) > max {
		return &SizeError{What: what, Size: len(data), Limit: max}
	}
	return nil
}

// EncodeNamed is Encode for a payload described as `<kind> "<name>"` (for
// example `input of activity "count-words"`); the description is only
// formatted when there is an error, which keeps hot paths allocation-free.
func EncodeNamed(c Codec, lim Limits, kind, name string, v any) ([]byte, error) {
	return encode(c, lim, v, func() string { return describe(kind, name) })
}

// DecodeNamed is Decode with a lazily formatted description, as
// EncodeNamed.
func DecodeNamed[T any](c Codec, kind, name string, data []byte) (T, error) {
	return decode[T](c, data, func() string { return describe(kind, name) })
}

func describe(kind, name string) string { return fmt.Sprintf("%s %q", kind, name) }

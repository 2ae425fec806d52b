// Package record is the gateway's stored state: the registration record,
// the cached profiles answer and the kept decision, each with its compact
// binary form (encoding.BinaryAppender and encoding.BinaryUnmarshaler),
// which translate/store writes in place of JSON.
//
// # The binary form
//
// A record is a kind byte, the format version, then its fields in a fixed
// order as uvarint-length-prefixed bytes and varints. It is a fraction of
// the size of its JSON and decodes without reflection. The kind byte has its
// high bit set when the version follows:
//
//	kind|0x80  version  fields...
//
// Versions:
//
//   - 0: no version byte: the kind byte alone (0x01 registration, 0x02
//     profiles, 0x03 decision), then version 1's fields. Gateways before the
//     format carried a version wrote it; a rolling upgrade meets such
//     records in Redis, so they are read for as long as they may live.
//   - 1: the version byte, then the same fields as version 0.
//
// Records are written in Version (AppendBinary), or in version 0
// (AppendVersion) while instances of a gateway before format versions, which
// cannot read version 1, share the store during a rolling upgrade from it
// (passgw's store_record_version).
//
// Every decoder also reads the JSON form (a value starting with '{'), which
// the earliest gateways stored. A record of a newer version than Version is
// an error wrapping ErrNewerVersion: an instance that has not been upgraded
// yet cannot read it. A change of fields takes a new version, and the
// decoders keep reading every version a store may still hold.
package record

package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// UserMetadata implements GET /api/v1/tokens/usermetadata from the
// attributes of the device's profile.
func (g *Gateway) UserMetadata(ctx context.Context, req *v1model.UserMetadataRequest) (*v1model.UserMetadata, error) {
	return forRequestor(ctx, g, "tokens/usermetadata", req.Device.Requestor, func(rq *Requestor) (*v1model.UserMetadata, error) {
		return g.userMetadata(ctx, rq, req)
	})
}

func (g *Gateway) userMetadata(ctx context.Context, rq *Requestor, req *v1model.UserMetadataRequest) (*v1model.UserMetadata, error) {
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return nil, err
	}
	a, expired, err := g.deviceAuthn(ctx, dv)
	switch {
	case err != nil:
		return nil, err
	case a == nil:
		return nil, notAuthenticated(412, expired)
	case len(a.Profile.Attributes) == 0:
		return nil, v1model.ErrNotFound("")
	}
	return metadataOf(a.Profile)
}

// metadataOf builds the v1 metadata body: updated is when the profile was
// obtained, encrypted names the attributes v2 marks "enc", and data holds the
// values in key order.
func metadataOf(p v2client.Profile) (*v1model.UserMetadata, error) {
	names := make([]string, 0, len(p.Attributes))
	for name := range p.Attributes {
		names = append(names, name)
	}
	slices.Sort(names)
	m := &v1model.UserMetadata{Updated: p.NotBefore.Time(), Encrypted: []string{}}
	for _, name := range names {
		attr := p.Attributes[name]
		if attr.Encrypted() {
			m.Encrypted = append(m.Encrypted, name)
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(attr.Value))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, v1model.ErrInternal(err)
		}
		m.Data = append(m.Data, v1model.MetadataField{Name: name, Value: v})
	}
	return m, nil
}

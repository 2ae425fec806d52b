package v1api

// DeviceInfoObject decodes a device_info parameter or X-Device-Info header
// value as the Handler does (URL-decoded when it holds a '%', Base64, one
// JSON object) and returns the JSON object; nil when raw is empty or not a
// valid device information.
func DeviceInfoObject(raw string) []byte {
	if raw == "" {
		return nil
	}
	_, obj, err := decodeDeviceInfo(raw)
	if err != nil {
		return nil
	}
	return obj
}

// DeviceInfo is the device information the call carries, decoded as the
// Handler reads it (X-Device-Info header, else device_info parameter); nil
// when there is none or it is not valid. Like Params, it reads the call
// only while Front serves it.
func (c *Call) DeviceInfo() []byte {
	raw := c.header.Get("X-Device-Info")
	if raw == "" {
		raw = c.params.Get("device_info")
	}
	return DeviceInfoObject(raw)
}

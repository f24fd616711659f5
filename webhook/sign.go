package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/taskwire/taskwire"
)

// secretPrefix starts every webhook secret; the rest is base64.
const secretPrefix = "whsec_"

// MessageID is the webhook-id of one event delivered to one webhook: the
// same on every attempt and redelivery, so receivers can drop copies.
func MessageID(projectID, seq, webhookID int64) string {
	return "msg_" + strconv.FormatInt(projectID, 10) + "_" + strconv.FormatInt(seq, 10) + "_" + strconv.FormatInt(webhookID, 10)
}

// Body is what a delivery posts: the event's type, its time, and the event
// exactly as a protocol-2 socket receives it (event is its
// taskwire.Event.AppendJSON form).
func Body(typ taskwire.EventType, ts time.Time, event []byte) []byte {
	q, _ := json.Marshal(string(typ)) // a string always marshals
	b := make([]byte, 0, len(event)+len(q)+64)
	b = append(b, `{"type":`...)
	b = append(b, q...)
	b = append(b, `,"timestamp":"`...)
	b = ts.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, event...)
	return append(b, '}')
}

// Sign returns the Standard Webhooks signature of one message with one
// secret: "v1," and the base64 HMAC-SHA256, keyed with the secret's
// base64-decoded part after whsec_, of "<id>.<timestamp>.<body>".
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhook: malformed secret")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Signatures returns the webhook-signature header: one signature per
// secret, space-separated.
func Signatures(secrets []string, id string, ts int64, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

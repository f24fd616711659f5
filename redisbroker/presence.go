package redisbroker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// Presence shares who is connected between instances: each instance keeps
// its own entries for a project in one field of a Redis hash, and a
// heartbeat key that expires when the instance stops. Get sums the entries
// of the instances whose heartbeat is alive, so a crashed instance's
// sockets disappear within presenceTTL.
type Presence struct {
	client   *redis.Client
	prefix   string
	instance string
}

var _ realtime.PresenceStore = (*Presence)(nil)

// presenceTTL is how long an instance counts as alive after its last
// heartbeat (sent every 5 s).
const presenceTTL = 15 * time.Second

// NewPresence returns the shared presence store of one instance.
func NewPresence(client *redis.Client, prefix, instance string) *Presence {
	return &Presence{client: client, prefix: prefix, instance: instance}
}

func (p *Presence) key(projectID int64) string {
	return p.prefix + "presence:" + strconv.FormatInt(projectID, 10)
}

func (p *Presence) aliveKey(instance string) string { return p.prefix + "alive:" + instance }

// Alive implements realtime.PresenceStore.
func (p *Presence) Alive(ctx context.Context) error {
	return p.client.Set(ctx, p.aliveKey(p.instance), "1", presenceTTL).Err()
}

// Put implements realtime.PresenceStore.
func (p *Presence) Put(ctx context.Context, projectID int64, entries []realtime.PresenceEntry) error {
	if len(entries) == 0 {
		return p.client.HDel(ctx, p.key(projectID), p.instance).Err()
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	pipe := p.client.TxPipeline()
	pipe.HSet(ctx, p.key(projectID), p.instance, b)
	pipe.Expire(ctx, p.key(projectID), 24*time.Hour)
	pipe.Set(ctx, p.aliveKey(p.instance), "1", presenceTTL)
	_, err = pipe.Exec(ctx)
	return err
}

// Get implements realtime.PresenceStore.
func (p *Presence) Get(ctx context.Context, projectID int64) ([]realtime.PresenceEntry, error) {
	fields, err := p.client.HGetAll(ctx, p.key(projectID)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	byUser := map[int64]realtime.PresenceEntry{}
	for instance, raw := range fields {
		alive, err := p.client.Exists(ctx, p.aliveKey(instance)).Result()
		if err != nil {
			return nil, unavailable(err)
		}
		if alive == 0 {
			p.client.HDel(ctx, p.key(projectID), instance)
			continue
		}
		var entries []realtime.PresenceEntry
		if json.Unmarshal([]byte(raw), &entries) != nil {
			continue
		}
		for _, e := range entries {
			sum := byUser[e.UserID]
			sum.UserID, sum.Username = e.UserID, e.Username
			sum.Connections += e.Connections
			byUser[e.UserID] = sum
		}
	}
	out := make([]realtime.PresenceEntry, 0, len(byUser))
	for _, e := range byUser {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b realtime.PresenceEntry) int { return int(a.UserID - b.UserID) })
	return out, nil
}

// markScript sets this instance's socket count for one user of a project
// and returns how many live instances had the user online before and after,
// in one atomic step (so two instances never both announce the same
// transition). Fields of instances whose heartbeat expired are dropped: a
// crashed instance's sockets are gone.
//
// KEYS[1] the user's hash (instance → count); ARGV: instance, count, the
// heartbeat key prefix. The heartbeat keys are read by name, which
// standalone Redis allows.
var markScript = redis.NewScript(`
local function online()
  local n = 0
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if all[i] == ARGV[1] or redis.call('EXISTS', ARGV[3] .. all[i]) == 1 then
      if tonumber(all[i + 1]) > 0 then n = n + 1 end
    else
      redis.call('HDEL', KEYS[1], all[i])
    end
  end
  return n
end
local before = online()
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[1], 86400)
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return {before, online()}
`)

// Mark implements realtime.PresenceStore.
func (p *Presence) Mark(ctx context.Context, projectID, userID int64, conns int) (joined, left bool, err error) {
	key := p.prefix + "online:" + strconv.FormatInt(projectID, 10) + ":" + strconv.FormatInt(userID, 10)
	res, err := markScript.Run(ctx, p.client, []string{key}, p.instance, conns, p.prefix+"alive:").Int64Slice()
	if err != nil {
		return false, false, err
	}
	if len(res) != 2 {
		return false, false, fmt.Errorf("redisbroker: presence script returned %v", res)
	}
	before, after := res[0], res[1]
	return before == 0 && after > 0, before > 0 && after == 0, nil
}

// unavailable is the error of a presence read while Redis cannot answer:
// the client gets 503 and a message, not 500.
func unavailable(err error) error {
	return &taskwire.Error{Kind: taskwire.Unavailable, Message: "Presence is unavailable: the broker cannot be reached; try again shortly", Err: err}
}

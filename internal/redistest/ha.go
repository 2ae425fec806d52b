package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redisproc"
	"github.com/passgw/passgw/internal/testenv"
)

// settleWait bounds how long a replica, the sentinels or a cluster take to
// agree after they start.
const settleWait = 20 * time.Second

// MasterSet is the name the sentinels of StartSentinel monitor the master
// under.
const MasterSet = "passgw"

// SentinelSet is a master, one replica of it, and three sentinels watching
// them, all on loopback: the smallest Sentinel deployment that survives the
// loss of the master.
type SentinelSet struct {
	Master, Replica *Server
	Sentinels       []*Server
}

// StartSentinel starts a SentinelSet for t whose sentinels take the master
// for dead after downAfter without an answer, and returns once the replica
// copies the master and every sentinel knows the replica and the other
// sentinels. Without redis-server or redis-sentinel the test ends as
// testenv.Missing says.
func StartSentinel(t testing.TB, downAfter time.Duration) *SentinelSet {
	t.Helper()
	s := &SentinelSet{Master: Start(t)}
	s.Replica = Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port()))
	eventuallyTrue(t, "replica in sync", func() (bool, error) {
		info, err := s.Replica.DoString("INFO", "replication")
		return strings.Contains(info, "master_link_status:up"), err
	})
	for i := range 3 {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s %d\n"+
			"sentinel parallel-syncs %s 1\n",
			MasterSet, s.Master.Port(), MasterSet, downAfter.Milliseconds(), MasterSet, (4 * downAfter).Milliseconds(), MasterSet)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		sp, err := redisproc.LaunchSentinel(context.Background(), dir, conf)
		if errors.Is(err, redisproc.ErrNotInstalled) {
			testenv.Missing(t, "redis-sentinel", err)
		}
		if err != nil {
			t.Fatalf("sentinel %d: %v", i, err)
		}
		sn := &Server{Server: sp, t: t}
		t.Cleanup(sn.Stop)
		s.Sentinels = append(s.Sentinels, sn)
	}
	for i, sn := range s.Sentinels {
		eventuallyTrue(t, fmt.Sprintf("sentinel %d knowing the replica and the other sentinels", i), func() (bool, error) {
			r, err := sn.Do("SENTINEL", "MASTER", MasterSet)
			if err != nil {
				return false, err
			}
			m := pairs(r)
			return m["num-slaves"] == "1" && m["num-other-sentinels"] == "2", nil
		})
	}
	return s
}

// URL is the redis+sentinel URL naming the three sentinels and the master
// set.
func (s *SentinelSet) URL() string {
	addrs := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		addrs[i] = sn.Addr
	}
	return "redis+sentinel://" + strings.Join(addrs, ",") + "/" + MasterSet
}

// MasterAddr is the master's address as the first sentinel that answers
// knows it.
func (s *SentinelSet) MasterAddr() (string, error) {
	var lastErr error
	for _, sn := range s.Sentinels {
		r, err := sn.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterSet)
		if err != nil {
			lastErr = err
			continue
		}
		if a, ok := r.([]any); ok && len(a) == 2 {
			return fmt.Sprintf("%v:%v", a[0], a[1]), nil
		}
		lastErr = fmt.Errorf("GET-MASTER-ADDR-BY-NAME answered %v", r)
	}
	return "", lastErr
}

// ClusterSet is a Redis Cluster of masters on loopback, without replicas.
type ClusterSet struct {
	Nodes []*Server
}

// StartCluster starts a cluster of n masters for t, the hash slots split
// evenly between them, and returns once every node sees the cluster as ok.
// nodeTimeout is cluster-node-timeout.
func StartCluster(t testing.TB, n int, nodeTimeout time.Duration) *ClusterSet {
	t.Helper()
	c := &ClusterSet{}
	for range n {
		c.Nodes = append(c.Nodes, Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10)))
	}
	const slots = 16384
	for i, node := range c.Nodes {
		// Distinct epochs, as redis-cli --cluster create gives, so that no
		// node has to win a collision before the cluster agrees.
		if _, err := node.Do("CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			t.Fatal(err)
		}
		first, last := i*slots/n, (i+1)*slots/n-1
		if _, err := node.Do("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last)); err != nil {
			t.Fatal(err)
		}
	}
	for _, node := range c.Nodes[1:] {
		if _, err := c.Nodes[0].Do("CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(node.Port())); err != nil {
			t.Fatal(err)
		}
	}
	for i, node := range c.Nodes {
		eventuallyTrue(t, fmt.Sprintf("cluster node %d ok", i), func() (bool, error) {
			info, err := node.DoString("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)+"\r\n") &&
				strings.Contains(info, "cluster_slots_ok:16384"), err
		})
	}
	return c
}

// URL is the redis+cluster URL naming every node as a seed.
func (c *ClusterSet) URL() string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// pairs reads a flat [key, value, key, value...] reply as a map.
func pairs(r any) map[string]string {
	m := map[string]string{}
	a, _ := r.([]any)
	for i := 0; i+1 < len(a); i += 2 {
		m[fmt.Sprint(a[i])] = fmt.Sprint(a[i+1])
	}
	return m
}

// eventuallyTrue waits, as testenv.Eventually does, until ok reports done.
func eventuallyTrue(t testing.TB, what string, ok func() (bool, error)) {
	t.Helper()
	testenv.Eventually(t, "redistest: "+what, settleWait, func() error {
		done, err := ok()
		switch {
		case done:
			return nil
		case err != nil:
			return err
		}
		return errors.New("not yet")
	})
}

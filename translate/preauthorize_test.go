package translate

import (
	"fmt"
	"testing"

	"github.com/passgw/passgw/v2client"
)

// TestDecisionIndex: whatever the number of decisions, a resource finds its
// first decision, and an absent resource none.
func TestDecisionIndex(t *testing.T) {
	for _, n := range []int{0, 1, 5, 16, 17, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var ds []v2client.Decision
			for i := range n {
				ds = append(ds, v2client.Decision{Resource: fmt.Sprintf("res-%d", i), Authorized: i%2 == 0})
			}
			if n > 0 {
				// v2 repeating a resource: the first answer counts.
				ds = append(ds, v2client.Decision{Resource: "res-0", Authorized: false, MVPD: "later"})
			}
			x := newDecisionIndex(ds)
			for i := range n {
				d, ok := x.find(fmt.Sprintf("res-%d", i))
				if !ok || d.Authorized != (i%2 == 0) || d.MVPD != "" {
					t.Errorf("res-%d: got %+v, %v; want the first decision", i, d, ok)
				}
			}
			if d, ok := x.find("absent"); ok {
				t.Errorf("absent resource found: %+v", d)
			}
		})
	}
}

package callerauth

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The functions that compare a presented secret (client secret, token MAC,
// signed-header signature) with the expected one must do it in constant
// time, or response timing leaks the secret byte by byte. Timing cannot be
// measured reliably in a unit test, so this reads the code: each function
// compares through hmac.Equal or subtle.ConstantTimeCompare and holds no
// other equality test on strings or bytes (only checks against nil, zero
// and constant ints, which reveal nothing of the secret).
func TestSecretsComparedInConstantTime(t *testing.T) {
	want := map[string]bool{"verifyClient": false, "verify": false, "VerifySignature": false}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			if _, tracked := want[fn.Name.Name]; !tracked {
				continue
			}
			constantTime := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					switch callName(n) {
					case "hmac.Equal", "subtle.ConstantTimeCompare":
						constantTime = true
					case "bytes.Equal", "bytes.Compare", "strings.Compare", "strings.EqualFold", "reflect.DeepEqual", "slices.Equal":
						t.Errorf("%s: %s compares a secret in variable time", fn.Name.Name, callName(n))
					}
				case *ast.BinaryExpr:
					if (n.Op == gotoken.EQL || n.Op == gotoken.NEQ) && !harmless(n.X) && !harmless(n.Y) {
						t.Errorf("%s: %s: %s comparison may involve a secret", fn.Name.Name, fset.Position(n.Pos()), n.Op)
					}
				}
				return true
			})
			if !constantTime {
				t.Errorf("%s: no hmac.Equal or subtle.ConstantTimeCompare", fn.Name.Name)
			}
			want[fn.Name.Name] = true
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("function %s not found: update this test with the function that now verifies the secret", name)
		}
	}
}

func callName(c *ast.CallExpr) string {
	if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
		if x, ok := sel.X.(*ast.Ident); ok {
			return x.Name + "." + sel.Sel.Name
		}
	}
	return ""
}

// harmless reports whether one side of a comparison is nil, a number or a
// named constant of the file (upper-case or known), which never stands for a
// secret.
func harmless(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "signatureMethodSHA1"
	case *ast.BasicLit:
		return e.Kind == gotoken.INT
	case *ast.CallExpr:
		return callName(e) == "" && len(e.Args) == 1 && isIdent(e.Fun, "len")
	}
	return false
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

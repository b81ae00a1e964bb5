// Command coredns is CoreDNS with only the plugins the test cluster's DNS uses: it answers for
// cluster.local from the Kubernetes API, on the node address only, and answers nothing else (pods
// need no outside names).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
)

// directives lists the plugins in the order CoreDNS chains them (the order of its plugin.cfg).
var directives = []string{"bind", "errors", "kubernetes", "cache"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}

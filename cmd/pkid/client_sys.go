package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// mountFlags are the flags `secrets enable` and `auth enable` share.
type mountFlags struct {
	path, description     string
	defaultTTL, maxTTL    time.Duration
	local, sealWrap       bool
	externalEntropyAccess bool
	options               map[string]string
	version               int
}

func (m *mountFlags) register(f *commandFlags) {
	f.StringVar(&m.path, "path", "", "where to mount (default: the type)")
	f.StringVar(&m.description, "description", "", "human-friendly description")
	f.Var(durationFlag{&m.defaultTTL}, "default-lease-ttl", "default lease TTL")
	f.Var(durationFlag{&m.maxTTL}, "max-lease-ttl", "maximum lease TTL")
	f.BoolVar(&m.local, "local", false, "local-only mount")
	f.BoolVar(&m.sealWrap, "seal-wrap", false, "seal-wrap critical values")
	f.BoolVar(&m.externalEntropyAccess, "external-entropy-access", false, "access the external entropy source")
	f.Var(mapFlag{&m.options}, "options", "mount option key=value (repeatable)")
	f.IntVar(&m.version, "version", 0, "engine version (sets options version=N)")
}

// input builds the body the vault CLI sends: every field present, TTLs as
// Go duration strings ("0s" when unset).
func (m *mountFlags) input(typ string, forceNoCache bool) *api.MountInput {
	opts := m.options
	if m.version > 0 {
		if opts == nil {
			opts = map[string]string{}
		}
		opts["version"] = strconv.Itoa(m.version)
	}
	return &api.MountInput{
		Type:                  typ,
		Description:           m.description,
		Local:                 m.local,
		SealWrap:              m.sealWrap,
		ExternalEntropyAccess: m.externalEntropyAccess,
		Config: api.MountConfigInput{
			DefaultLeaseTTL: m.defaultTTL.String(),
			MaxLeaseTTL:     m.maxTTL.String(),
			ForceNoCache:    forceNoCache,
		},
		Options: opts,
	}
}

func (m *mountFlags) mountPath(typ string) string {
	return mountPath(firstNonEmpty(m.path, typ))
}

func (c *cli) secretsEnable(args []string) int {
	f := c.flags("secrets enable", noOutput)
	var m mountFlags
	m.register(f)
	var forceNoCache bool
	f.BoolVar(&forceNoCache, "force-no-cache", false, "disable caching")
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	typ := strings.TrimSpace(f.Arg(0))
	path := m.mountPath(typ)
	if err := client.Sys().Mount(path, m.input(typ, forceNoCache)); err != nil {
		c.errorf("Error enabling: %s", err)
		return 2
	}
	c.outf("Success! Enabled the %s secrets engine at: %s", typ, path)
	return 0
}

func (c *cli) secretsDisable(args []string) int {
	return c.disable("secrets disable", args, func(client *api.Client, path string) error {
		return client.Sys().Unmount(path)
	}, "Error disabling secrets engine at %[1]s: %[2]s", "Success! Disabled the secrets engine (if it existed) at: %s")
}

func (c *cli) authDisable(args []string) int {
	return c.disable("auth disable", args, func(client *api.Client, path string) error {
		return client.Sys().DisableAuth(path)
	}, "Error disabling auth method at %[1]s: %[2]s", "Success! Disabled the auth method (if it existed) at: %s")
}

func (c *cli) auditDisable(args []string) int {
	return c.disable("audit disable", args, func(client *api.Client, path string) error {
		return client.Sys().DisableAudit(path)
	}, "Error disabling audit device: %[2]s", "Success! Disabled audit device (if it was enabled) at: %s")
}

func (c *cli) disable(name string, args []string, do func(*api.Client, string) error, errFormat, okFormat string) int {
	f := c.flags(name, noOutput)
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	path := mountPath(f.Arg(0))
	if err := do(client, path); err != nil {
		c.errorf(errFormat, path, err)
		return 2
	}
	c.outf(okFormat, path)
	return 0
}

// listCommand runs a `<group> list` command: no arguments, one call, then
// the answer as JSON (as the API returned it) or as show prints it.
func listCommand[T any](c *cli, name string, args []string, fetch func(*api.Sys) (T, error), what string, show func(T) int) int {
	f := c.flags(name, formatOnly)
	client, code, ok := c.start(f, args, 0, 0)
	if !ok {
		return code
	}
	v, err := fetch(client.Sys())
	if err != nil {
		c.errorf("Error listing %s: %s", what, err)
		return 2
	}
	if f.format == "json" {
		return c.printJSON(v)
	}
	return show(v)
}

func (c *cli) secretsList(args []string) int {
	return listCommand(c, "secrets list", args, (*api.Sys).ListMounts, "secrets engines", func(mounts map[string]*api.MountOutput) int {
		rows := [][]string{{"Path", "Type", "Accessor", "Description"}}
		for _, p := range sortedKeys(mounts) {
			m := mounts[p]
			rows = append(rows, []string{p, m.Type, m.Accessor, m.Description})
		}
		c.outf("%s", table(rows))
		return 0
	})
}

func (c *cli) secretsTune(args []string) int {
	f := c.flags("secrets tune", noOutput)
	var defaultTTL, maxTTL time.Duration
	var description string
	var options map[string]string
	f.Var(durationFlag{&defaultTTL}, "default-lease-ttl", `default lease TTL ("system" resets it)`)
	f.Var(durationFlag{&maxTTL}, "max-lease-ttl", `maximum lease TTL ("system" resets it)`)
	f.StringVar(&description, "description", "", "new description")
	f.Var(mapFlag{&options}, "options", "mount option key=value (repeatable)")
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	path := mountPath(f.Arg(0))
	// The body is what vault's tune sends: options, both TTLs ("" when not
	// given) and force_no_cache always; description only when given.
	in := api.MountConfigInput{DefaultLeaseTTL: ttlToAPI(defaultTTL), MaxLeaseTTL: ttlToAPI(maxTTL), Options: options}
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == "description" {
			in.Description = &description
		}
	})
	if err := client.Sys().TuneMount(path, in); err != nil {
		c.errorf("Error tuning secrets engine %s: %s", path, err)
		return 2
	}
	c.outf("Success! Tuned the secrets engine at: %s", path)
	return 0
}

func (c *cli) authEnable(args []string) int {
	f := c.flags("auth enable", noOutput)
	var m mountFlags
	m.register(f)
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	typ := strings.TrimSpace(f.Arg(0))
	path := m.mountPath(typ)
	if err := client.Sys().EnableAuthWithOptions(path, m.input(typ, false)); err != nil {
		c.errorf("Error enabling %s auth: %s", typ, err)
		return 2
	}
	c.outf("Success! Enabled %s auth method at: %s", typ, path)
	return 0
}

func (c *cli) authList(args []string) int {
	return listCommand(c, "auth list", args, (*api.Sys).ListAuth, "enabled authentications", func(auths map[string]*api.AuthMount) int {
		rows := [][]string{{"Path", "Type", "Accessor", "Description", "Version"}}
		for _, p := range sortedKeys(auths) {
			m := auths[p]
			rows = append(rows, []string{p, m.Type, m.Accessor, m.Description, m.PluginVersion})
		}
		c.outf("%s", table(rows))
		return 0
	})
}

func (c *cli) auditEnable(args []string) int {
	f := c.flags("audit enable", noOutput)
	var path, description string
	var local bool
	f.StringVar(&path, "path", "", "where to enable the device (default: the type)")
	f.StringVar(&description, "description", "", "human-friendly description")
	f.BoolVar(&local, "local", false, "local-only device")
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	if len(f.Args()) < 1 {
		c.errorf("Error enabling audit device: audit type missing. Valid types include 'file', 'socket' and 'syslog'.")
		return 1
	}
	typ := strings.TrimSpace(f.Arg(0))
	path = mountPath(firstNonEmpty(path, typ))
	opts, err := kvStrings(c.stdin, f.Args()[1:])
	if err != nil {
		c.errorf("Failed to parse K=V data: %s", err)
		return 1
	}
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	err = client.Sys().EnableAuditWithOptions(path, &api.EnableAuditOptions{
		Type: typ, Description: description, Options: opts, Local: local,
	})
	if err != nil {
		c.errorf("Error enabling audit device: %s", err)
		return 2
	}
	c.outf("Success! Enabled the %s audit device at: %s", typ, path)
	return 0
}

// kvStrings is kvData for string maps (audit options); like vault it sends
// an empty object, not null, when there are none.
func kvStrings(stdin io.Reader, args []string) (map[string]string, error) {
	data, err := kvData(stdin, args)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(data))
	for k, v := range data {
		if _, ok := v.([]any); ok {
			return nil, fmt.Errorf("failed to convert values to strings: %q is repeated", k)
		}
		out[k] = fmt.Sprint(v)
	}
	return out, nil
}

func (c *cli) auditList(args []string) int {
	return listCommand(c, "audit list", args, (*api.Sys).ListAudit, "audits", func(audits map[string]*api.Audit) int {
		if len(audits) == 0 {
			c.outf("No audit devices are enabled.")
			return 2
		}
		rows := [][]string{{"Path", "Type", "Description"}}
		for _, p := range sortedKeys(audits) {
			a := audits[p]
			rows = append(rows, []string{a.Path, a.Type, a.Description})
		}
		c.outf("%s", table(rows))
		return 0
	})
}

func (c *cli) policyWrite(args []string) int {
	f := c.flags("policy write", noOutput)
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	if !c.nargs(f.Args(), 2, 2) {
		return 1
	}
	// Vault lower-cases policy names.
	name := f.Arg(0)
	formatted := strings.ToLower(strings.TrimSpace(name))
	rules, err := c.readPolicy(strings.TrimSpace(f.Arg(1)))
	if err != nil {
		c.errorf("%s", err)
		return 2
	}
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	if err := client.Sys().PutPolicy(formatted, rules); err != nil {
		c.errorf("Error uploading policy: %s", err)
		return 2
	}
	if name != formatted {
		c.errorf("Policy name was converted from \"%s\" to \"%s\"", name, formatted)
	}
	c.outf("Success! Uploaded policy: %s", formatted)
	return 0
}

func (c *cli) readPolicy(path string) (string, error) {
	var r io.Reader = c.stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("Error opening policy file: %w", err)
		}
		defer file.Close()
		r = file
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return "", fmt.Errorf("Error reading policy: %w", err)
	}
	return buf.String(), nil
}

func (c *cli) policyRead(args []string) int {
	f := c.flags("policy read", formatOnly)
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	name := strings.ToLower(strings.TrimSpace(f.Arg(0)))
	rules, err := client.Sys().GetPolicy(name)
	if err != nil {
		c.errorf("Error reading policy named %s: %s", name, err)
		return 2
	}
	if rules == "" {
		c.errorf("No policy named: %s", name)
		return 2
	}
	if f.format == "json" {
		return c.printJSON(map[string]string{"policy": rules})
	}
	c.outf("%s", strings.TrimSpace(rules))
	return 0
}

func (c *cli) policyDelete(args []string) int {
	f := c.flags("policy delete", noOutput)
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	name := strings.ToLower(strings.TrimSpace(f.Arg(0)))
	if err := client.Sys().DeletePolicy(name); err != nil {
		c.errorf("Error deleting %s: %s", name, err)
		return 2
	}
	c.outf("Success! Deleted policy: %s", name)
	return 0
}

func (c *cli) policyList(args []string) int {
	return listCommand(c, "policy list", args, (*api.Sys).ListPolicies, "policies", func(policies []string) int {
		for _, p := range policies {
			c.outf("%s", p)
		}
		return 0
	})
}

func (c *cli) tokenCreate(args []string) int {
	f := c.flags("token create", formatField)
	var req api.TokenCreateRequest
	var ttl, explicitMax, period time.Duration
	var role string
	renewable := true
	f.StringVar(&req.ID, "id", "", "value for the token (needs sudo)")
	f.StringVar(&req.DisplayName, "display-name", "", "name to associate with the token")
	f.Var(durationFlag{&ttl}, "ttl", "initial TTL")
	f.Var(durationFlag{&explicitMax}, "explicit-max-ttl", "hard maximum lifetime")
	f.Var(durationFlag{&period}, "period", "renewal period")
	f.BoolVar(&renewable, "renewable", true, "allow renewal")
	f.BoolVar(&req.NoParent, "orphan", false, "create the token with no parent")
	f.BoolVar(&req.NoDefaultPolicy, "no-default-policy", false, `do not attach the "default" policy`)
	f.IntVar(&req.NumUses, "use-limit", 0, "number of uses (0: unlimited)")
	f.StringVar(&role, "role", "", "token role to create against")
	f.StringVar(&req.Type, "type", "service", `"service" or "batch"`)
	f.Var(mapFlag{&req.Metadata}, "metadata", "key=value metadata (repeatable)")
	f.Var(listFlag{&req.Policies}, "policy", "policy to attach (repeatable)")
	f.StringVar(&req.EntityAlias, "entity-alias", "", "entity alias (with -role)")
	client, code, ok := c.start(f, args, 0, 0)
	if !ok {
		return code
	}
	if req.Type == "batch" {
		renewable = false
	}
	// As vault sends them: unset durations as "0s", renewable always.
	req.TTL, req.ExplicitMaxTTL, req.Period = ttl.String(), explicitMax.String(), period.String()
	req.Renewable = &renewable
	var secret *api.Secret
	var err error
	if role != "" {
		secret, err = client.Auth().Token().CreateWithRole(&req, role)
	} else {
		secret, err = client.Auth().Token().Create(&req)
	}
	if err != nil {
		c.errorf("Error creating token: %s", err)
		return 2
	}
	return c.printResult(f, secret)
}

func (c *cli) tokenLookup(args []string) int {
	f := c.flags("token lookup", formatOnly)
	var accessor bool
	f.BoolVar(&accessor, "accessor", false, "the argument is an accessor")
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	min := 0
	if accessor {
		min = 1
	}
	if !c.nargs(f.Args(), min, 1) {
		return 1
	}
	token := strings.TrimSpace(f.Arg(0))
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	var secret *api.Secret
	var err error
	switch {
	case token == "":
		secret, err = client.Auth().Token().LookupSelf()
	case accessor:
		secret, err = client.Auth().Token().LookupAccessor(token)
	default:
		secret, err = client.Auth().Token().Lookup(token)
	}
	if err != nil {
		c.errorf("Error looking up token: %s", err)
		return 2
	}
	return c.printSecret(secret, f.format)
}

func (c *cli) tokenRevoke(args []string) int {
	f := c.flags("token revoke", noOutput)
	var self, accessor bool
	var mode string
	f.BoolVar(&self, "self", false, "revoke the token in use")
	f.BoolVar(&accessor, "accessor", false, "the argument is an accessor")
	f.StringVar(&mode, "mode", "", `"" (token and children) or "orphan" (token only)`)
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	revoke, ok := c.revokeFunc(f.Args(), self, accessor, mode)
	if !ok {
		return 1
	}
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	if err := revoke(client.Auth().Token(), strings.TrimSpace(f.Arg(0))); err != nil {
		c.errorf("Error revoking token: %s", err)
		return 2
	}
	c.outf("Success! Revoked token (if it existed)")
	return 0
}

func (c *cli) revokeFunc(args []string, self, accessor bool, mode string) (func(*api.TokenAuth, string) error, bool) {
	switch {
	case mode != "" && mode != "orphan":
		c.errorf("Invalid mode: %s", mode)
	case self && len(args) > 0:
		c.errorf("Too many arguments with -self (expected 0, got %d)", len(args))
	case !self && len(args) != 1:
		c.errorf("Expected one token (or -self), got %d arguments", len(args))
	case self && (accessor || mode != ""):
		c.errorf("Cannot use -self with -accessor or -mode!")
	case accessor && mode != "":
		c.errorf("Cannot use -accessor with -mode=%s!", mode)
	case self:
		return (*api.TokenAuth).RevokeSelf, true
	case accessor:
		return (*api.TokenAuth).RevokeAccessor, true
	case mode == "orphan":
		return (*api.TokenAuth).RevokeOrphan, true
	default:
		return (*api.TokenAuth).RevokeTree, true
	}
	return nil, false
}

// status prints seal status as `vault status` does and exits 2 when sealed.
func (c *cli) status(args []string) int {
	f := c.flags("status", formatOnly)
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	if !c.nargs(f.Args(), 0, 0) {
		return 1
	}
	client, err := c.client(f)
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	st, err := client.Sys().SealStatus()
	if err != nil {
		c.errorf("Error checking seal status: %s", err)
		return 1
	}
	leader, err := client.Sys().Leader()
	if err != nil {
		c.errorf("Error checking leader status: %s", err)
		return 1
	}
	if f.format == "json" {
		c.printJSON(struct {
			*api.SealStatusResponse
			HAEnabled bool `json:"ha_enabled"`
		}{st, leader.HAEnabled})
	} else {
		c.outf("%s", table(statusRows(st, leader)))
	}
	if st.Sealed {
		return 2
	}
	return 0
}

func statusRows(st *api.SealStatusResponse, leader *api.LeaderResponse) [][]string {
	rows := [][]string{
		{"Key", "Value"},
		{"Seal Type", st.Type},
		{"Initialized", strconv.FormatBool(st.Initialized)},
		{"Sealed", strconv.FormatBool(st.Sealed)},
		{"Total Shares", strconv.Itoa(st.N)},
		{"Threshold", strconv.Itoa(st.T)},
	}
	if st.Sealed {
		rows = append(rows, []string{"Unseal Progress", fmt.Sprintf("%d/%d", st.Progress, st.T)})
	}
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, []string{k, v})
		}
	}
	add("Version", st.Version)
	add("Build Date", st.BuildDate)
	add("Storage Type", st.StorageType)
	if st.ClusterName != "" && st.ClusterID != "" {
		add("Cluster Name", st.ClusterName)
		add("Cluster ID", st.ClusterID)
	}
	rows = append(rows, []string{"HA Enabled", strconv.FormatBool(leader.HAEnabled)})
	return rows
}

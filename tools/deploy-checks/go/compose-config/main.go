// Command compose-config loads Compose files the way `docker compose config` does, without a
// Docker engine: it uses compose-go, the library inside docker compose, so interpolation, env
// files, extends, profiles, the compose-spec JSON schema and the consistency checks are the same.
// It prints the resolved project as JSON on stdout, or the problem on stderr with exit code 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var files, envFiles, profiles list
	flag.Var(&files, "f", "compose file (repeatable)")
	flag.Var(&envFiles, "env-file", "env file used for interpolation (repeatable)")
	flag.Var(&profiles, "profile", "profile to enable (repeatable, * for all)")
	name := flag.String("project-name", "event-pipeline", "project name")
	flag.Parse()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-config -f FILE [-f FILE] [--env-file FILE] [--profile NAME]")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(files,
		cli.WithName(*name),
		cli.WithEnvFiles(envFiles...),
		// Loads the env files above (or .env beside the compose file) for interpolation only.
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
		cli.WithInterpolation(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose config: %v\n", err)
	os.Exit(1)
}

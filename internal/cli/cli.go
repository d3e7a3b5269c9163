// Package cli is the command line of a program with subcommands: which
// command the arguments name, help for it, and refusing arguments a command
// does not take. Configuration comes from elsewhere (the environment).
package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Command is one subcommand.
type Command struct {
	Name, Summary string
	// Flags returns a fresh flag set of the command (for help); nil: the
	// command takes no flags.
	Flags func() *flag.FlagSet
	// Args is set for a command without flags that takes arguments.
	Args bool
}

// Program is a program's commands, in the order usage lists them.
type Program struct {
	Name string
	// Default is the command run when the arguments name none.
	Default string
	// Footer ends every help text (where the configuration comes from).
	Footer   string
	Commands []Command
}

// Parse splits args into the command and its arguments. It answers help
// (help [COMMAND], -h, -help, --help before "--") and refuses arguments to a
// command that takes none; then done is true and code is the exit code.
func (p Program) Parse(args []string, stdout, stderr io.Writer) (cmd string, rest []string, code int, done bool) {
	named := len(args) > 0 && args[0] != "" && args[0][0] != '-'
	cmd, rest = p.Default, args
	if named {
		cmd, rest = args[0], args[1:]
	}
	if cmd == "help" {
		topic := ""
		if len(rest) > 0 {
			topic = rest[0]
		}
		if !p.Help(stdout, topic) {
			fmt.Fprintf(stderr, "unknown command %q\n%s\n", topic, p.Usage())
			return cmd, rest, ExitUsage, true
		}
		return cmd, rest, ExitOK, true
	}
	c, known := p.command(cmd)
	if WantsHelp(rest) {
		if !known {
			fmt.Fprintf(stderr, "unknown command %q\n%s\n", cmd, p.Usage())
			return cmd, rest, ExitUsage, true
		}
		topic := cmd
		if !named {
			topic = "" // no command named (PROGRAM --help): the whole program
		}
		p.Help(stdout, topic)
		return cmd, rest, ExitOK, true
	}
	if known && !c.Args && c.Flags == nil && len(rest) > 0 {
		fmt.Fprintf(stderr, "%s takes no arguments, got %q\n%s\n", cmd, rest, p.Usage())
		return cmd, rest, ExitUsage, true
	}
	return cmd, rest, ExitOK, false
}

func (p Program) command(name string) (Command, bool) {
	for _, c := range p.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// WantsHelp reports whether args ask for help (-h, -help, --help) before a
// "--" that ends the flags.
func WantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// Help writes the help of cmd ("" for the whole program). It reports false
// for an unknown command.
func (p Program) Help(out io.Writer, cmd string) bool {
	if cmd == "" {
		fmt.Fprintln(out, p.Usage())
		return true
	}
	c, ok := p.command(cmd)
	if !ok {
		return false
	}
	fmt.Fprintf(out, "usage: %s %s [flags]\n\n  %s\n\n", p.Name, cmd, c.Summary)
	if c.Flags != nil {
		fs := c.Flags()
		fmt.Fprintln(out, "flags:")
		fs.SetOutput(out)
		fs.PrintDefaults()
		fmt.Fprintln(out)
	} else {
		fmt.Fprintf(out, "%s takes no flags.\n\n", cmd)
	}
	fmt.Fprintf(out, "%s (%s config prints it).\n", p.Footer, p.Name)
	return true
}

// Usage is the program's help: every command with its summary.
func (p Program) Usage() string {
	names := make([]string, len(p.Commands))
	for i, c := range p.Commands {
		names[i] = c.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s [%s] [flags]\n\n", p.Name, strings.Join(names, "|"))
	for _, c := range p.Commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(&b, "\n%s COMMAND --help lists the flags of a command.\n", p.Name)
	b.WriteString(p.Footer + ".")
	return b.String()
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/tracing"
)

const usage = `usage: accounts <command>

commands:
  serve                               apply pending migrations, then serve HTTP
                                      until SIGINT or SIGTERM
  migrate up|down|status              apply pending migrations, roll back the
                                      last group, or list them
  create-superadmin --username NAME   create a super admin (password from
                                      APP_SUPERADMIN_PASSWORD or a prompt)
  events tail                         print each event the configured broker
                                      receives, one JSON line with its headers
  events parked                       list the events parked after failing
  events replay --all | ID...         hand parked events back to the consumer
                                      group that parked them
  help                                print this help (also -h, --help)

The configuration is config.toml in the working directory, or the file that
APP_CONFIG names. An environment variable APP_<SECTION>_<KEY> overrides any
key, e.g. APP_DATABASE_URL, APP_HTTP_ADDR or APP_LOG_LEVEL. serve, migrate and
create-superadmin first say which database they use (host, port and name).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code, so tests can run
// every subcommand in process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	// Asking for help is never a mistake, whatever command it follows: the usage
	// goes to standard output and the program succeeds, before any configuration is
	// read or database touched.
	if slices.ContainsFunc(args, isHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	command, known := subcommands[args[0]]
	if !known {
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	cfg, err := LoadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "configuration is invalid:\n%v\n", err)
		return 1
	}
	logger, err := newLogger(cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer func() { _ = logger.Sync() }()
	for _, name := range strayEnv(os.Environ()) {
		logger.Warn("environment variable names no setting; ignored", zap.String("name", name))
	}

	if err := command(cfg, logger, args[1:], stdin, stdout, stderr); err != nil {
		var usageErr usageError
		if errors.As(err, &usageErr) {
			fmt.Fprintf(stderr, "%v\n\n%s", err, usage)
			return 2
		}
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// isHelp tells whether a command-line argument asks for the usage.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// subcommands are the program's commands by name.
var subcommands = map[string]func(cfg Config, logger *zap.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error{
	"serve": func(cfg Config, logger *zap.Logger, args []string, _ io.Reader, _, _ io.Writer) error {
		if len(args) > 0 {
			return usageError{fmt.Sprintf("serve: unexpected argument %q", args[0])}
		}
		return serve(cfg, logger)
	},
	"migrate": func(cfg Config, logger *zap.Logger, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return migrateCommand(cfg, logger, args, stdout, stderr)
	},
	"create-superadmin": createSuperAdminCommand,
	"events": func(cfg Config, logger *zap.Logger, args []string, stdin io.Reader, stdout, _ io.Writer) error {
		return eventsCommand(cfg, logger, args, stdin, stdout)
	},
}

// usageError is a command line the program cannot make sense of.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func databaseConfig(cfg Config) postgres.Config {
	return postgres.Config{
		URL:                      cfg.Database.URL,
		MaxOpenConns:             cfg.Database.MaxOpenConns,
		CreateIfMissing:          cfg.Database.CreateIfMissing,
		StatementTimeout:         cfg.Database.StatementTimeout.Duration,
		IdleInTransactionTimeout: cfg.Database.IdleInTransactionTimeout.Duration,
	}
}

// databaseTarget names the database a URL points at, as host:port and database name,
// for the line each command prints before connecting: a developer running a command
// in a terminal without the service's APP_DATABASE_URL would otherwise work on
// another database (created on the spot, with create_if_missing) without a word.
// It is read the way the driver reads it (defaults and PG* variables included) and
// never holds the password or the rest of the URL. ok is false when the URL does not
// parse; connecting then reports that.
func databaseTarget(rawURL string) (host, name string, ok bool) {
	c, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return "", "", false
	}
	host = c.Host
	if !strings.HasPrefix(host, "/") { // a Unix socket directory has no port to add
		host = net.JoinHostPort(host, strconv.Itoa(int(c.Port)))
	}
	return host, c.Database, true
}

// printDatabase tells the person at a terminal which database a command works on.
func printDatabase(w io.Writer, cfg Config) {
	if host, name, ok := databaseTarget(cfg.Database.URL); ok {
		fmt.Fprintf(w, "using database %q on %s\n", name, host)
	}
}

// openDatabase opens the configured database, creating it when allowed, and applies
// pending migrations: every subcommand works on an up-to-date schema. Migrations
// run on a connection of their own, free of the statement timeouts, which the
// service's pool then has.
func openDatabase(ctx context.Context, cfg Config, logger *zap.Logger) (*bun.DB, error) {
	if err := migrateUp(ctx, cfg, logger); err != nil {
		return nil, err
	}
	return postgres.Open(ctx, databaseConfig(cfg))
}

func migrateUp(ctx context.Context, cfg Config, logger *zap.Logger) error {
	db, err := postgres.Open(ctx, databaseConfig(cfg).ForMigrations())
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	applied, err := postgres.MigrateUp(ctx, postgres.NewMigrator(db))
	if err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	for _, name := range applied {
		logger.Info("migration applied", zap.String("name", name))
	}
	return nil
}

// serve runs the service until SIGINT or SIGTERM. Stopping is the reverse of
// starting: the HTTP server stops accepting and drains in-flight requests, then the
// bus router closes, then the database.
func serve(cfg Config, logger *zap.Logger) error {
	if host, name, ok := databaseTarget(cfg.Database.URL); ok {
		logger.Info("using database", zap.String("database", name), zap.String("host", host))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	db, err := openDatabase(ctx, cfg, logger)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()

	// Start and Stop rather than app.Run: Run exits the process itself on a failed
	// start, which would skip closing the database and the one-line error of main.
	app := fx.New(serviceOptions(cfg, logger, db, &listener{}))
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	err = app.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	sig := <-app.Wait()
	logger.Info("stopping", zap.String("signal", sig.Signal.String()))
	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return fmt.Errorf("stopping: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// serviceOptions is the whole service around its inputs; tests build the same app.
func serviceOptions(cfg Config, logger *zap.Logger, db *bun.DB, l *listener) fx.Option {
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger { return fxLogger(logger) }),
		fx.Supply(cfg, logger, db, l),
		fx.StopTimeout(cfg.HTTP.ShutdownDelay.Duration+cfg.HTTP.ShutdownTimeout.Duration+busCloseTimeout+eventsCloseTimeout+tracing.DefaultShutdownTimeout+time.Second),
		appModules(),
	)
}

// commandFlags parses a subcommand's flags, turning mistakes into usage errors.
func commandFlags(name string, args []string, define func(*flag.FlagSet)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	define(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("%s: %v", name, err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	return nil
}

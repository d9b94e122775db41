package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/system"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// createSuperAdminCommand runs `create-superadmin --username NAME`. It prints the
// super admin's id and succeeds also when that super admin already exists, so that
// provisioning can run it on every deploy.
func createSuperAdminCommand(cfg Config, logger *zap.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var username string
	if err := commandFlags("create-superadmin", args, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the super admin's username")
	}); err != nil {
		return err
	}
	if username == "" {
		return usageError{"create-superadmin: --username is required"}
	}
	// Before the password prompt: whoever types it sees where it is going.
	printDatabase(stderr, cfg)
	password, err := superAdminPassword(stdin, stdout)
	if err != nil {
		return err
	}
	return createSuperAdmin(cfg, logger, username, password, stdout)
}

// createSuperAdmin creates the super admin, or finds it, and prints its id.
func createSuperAdmin(cfg Config, logger *zap.Logger, username, password string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx = domain.WithCorrelationID(ctx, domain.NewCorrelationID())
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	hasher, err := newHasher(cfg)
	if err != nil {
		return err
	}

	handler := commands.NewCreateSuperAdminHandler(postgres.NewStore(db, outbox.NewWriter()), hasher, system.IDs{}, system.Clock{})
	res, err := handler.Handle(ctx, commands.CreateSuperAdmin{Username: username, Password: password})
	if err != nil {
		return describe(err)
	}
	if res.Created {
		logger.Info("super admin created", zap.String("user_id", res.ID), zap.String("username", username))
	} else {
		logger.Info("super admin already exists; nothing changed", zap.String("user_id", res.ID))
	}
	fmt.Fprintln(stdout, res.ID)
	return nil
}

// superAdminPasswordEnv holds the new super admin's password for scripts.
const superAdminPasswordEnv = "APP_SUPERADMIN_PASSWORD"

// superAdminPassword reads APP_SUPERADMIN_PASSWORD, or else prompts without echo on
// a terminal, or else reads one line from standard input (for scripts).
func superAdminPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if p, ok := os.LookupEnv(superAdminPasswordEnv); ok {
		return p, nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		return string(p), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// describe turns a use case error into the one clear line the command prints.
func describe(err error) error {
	e, ok := domain.AsError(err)
	if !ok {
		return err
	}
	if len(e.Fields) == 0 {
		return errors.New(e.Detail)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Message
	}
	return errors.New(strings.Join(parts, "; "))
}

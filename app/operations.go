package main

import (
	"fmt"
	"reflect"

	"go.uber.org/fx"

	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/ports"
	"github.com/example/accounts/queries"
)

// operations is the one table of what runs behind the HTTP API: each line pairs a
// message the port sends (a field of ports.Senders, used by a route's handler) with
// its result and the use case that handles it. A line provides the use case,
// registers it on the bus and gives the port its sender; a new operation is a new
// use case, a route, its handler and a line here.
var operations = fx.Options(
	// The caller's own account.
	operation[commands.Signup, commands.SignupResult, commands.SignupHandler](commands.NewSignupHandler),
	operation[commands.Login, commands.LoginResult, commands.LoginHandler](commands.NewLoginHandler),
	operation[commands.Logout, commands.NoResult, commands.LogoutHandler](commands.NewLogoutHandler),
	operation[commands.Authenticate, commands.Authenticated, commands.AuthenticateHandler](commands.NewAuthenticateHandler),
	operation[commands.ChangeOwnPassword, commands.NoResult, commands.ChangeOwnPasswordHandler](commands.NewChangeOwnPasswordHandler),
	operation[queries.Me, queries.UserView, queries.MeHandler](queries.NewMeHandler),

	// The administration of other users.
	operation[commands.CreateUser, commands.CreateUserResult, commands.CreateUserHandler](commands.NewCreateUserHandler),
	operation[commands.SetUserPassword, commands.NoResult, commands.SetUserPasswordHandler](commands.NewSetUserPasswordHandler),
	operation[commands.SetAdmin, commands.NoResult, commands.SetAdminHandler](commands.NewSetAdminHandler),
	operation[commands.SetActive, commands.NoResult, commands.SetActiveHandler](commands.NewSetActiveHandler),
	operation[queries.GetUser, queries.UserView, queries.GetUserHandler](queries.NewGetUserHandler),
	operation[queries.ListUsers, queries.UserPage, queries.ListUsersHandler](queries.NewListUsersHandler),
)

// operation is one line of the table: message M, result R, handled by the H that
// newHandler makes.
func operation[M, R any, H bus.Handler[M, R]](newHandler any) fx.Option {
	return fx.Options(
		fx.Provide(newHandler),
		fx.Provide(fx.Annotate(
			func(h H) busRegistration {
				return func(b *bus.Bus) error { return bus.Register[M, R](b, h) }
			},
			fx.ResultTags(`group:"bus_handlers"`),
		)),
		fx.Provide(fx.Annotate(
			func(b *bus.Bus) sender {
				return sender{forField: reflect.TypeFor[ports.Sender[M, R]](), value: bus.NewSender[M, R](b)}
			},
			fx.ResultTags(`group:"senders"`),
		)),
	)
}

// busRegistration puts one use case on the bus; the bus module registers them all
// before it starts.
type busRegistration func(*bus.Bus) error

// sender is the bus's sender of one operation, for the field of ports.Senders of
// its type.
type sender struct {
	forField reflect.Type
	value    any
}

// newSenders fills every field of ports.Senders with the sender of its operation,
// and refuses to start when a field has none or a sender has no field: a route
// whose message nothing handles, or a line of the table nothing sends.
func newSenders(senders []sender) (ports.Senders, error) {
	var out ports.Senders
	fields := reflect.ValueOf(&out).Elem()
	byType := make(map[reflect.Type]reflect.Value, fields.NumField())
	for i := range fields.NumField() {
		byType[fields.Type().Field(i).Type] = fields.Field(i)
	}
	for _, s := range senders {
		field, ok := byType[s.forField]
		if !ok {
			return ports.Senders{}, fmt.Errorf("the operations table has a line for %s, which ports.Senders has no field for", s.forField)
		}
		field.Set(reflect.ValueOf(s.value))
	}
	for i := range fields.NumField() {
		if fields.Field(i).IsNil() {
			f := fields.Type().Field(i)
			return ports.Senders{}, fmt.Errorf("ports.Senders.%s: no line of the operations table sends %s", f.Name, f.Type)
		}
	}
	return out, nil
}

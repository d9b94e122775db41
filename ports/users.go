package ports

import (
	"net/http"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

func (s *server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	role, err := req.role()
	if err != nil {
		return err
	}
	actor, err := s.authenticate(w, r)
	if err != nil {
		return err
	}
	res, err := s.send.CreateUser.Send(r.Context(), commands.CreateUser{
		Actor:      actor,
		Username:   req.Username.value,
		Password:   req.Password.value,
		Role:       role,
		ClientAddr: s.clientAddr(r),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+res.ID)
	return writeJSON(w, http.StatusCreated, createdUserResponse{ID: res.ID, CreatedAt: timestamp(res.CreatedAt)})
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if q.Actor, err = s.authenticate(w, r); err != nil {
		return err
	}
	page, err := s.send.ListUsers.Send(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPageResponse(page))
}

func (s *server) getUser(w http.ResponseWriter, r *http.Request) error {
	actor, id, err := s.target(w, r)
	if err != nil {
		return err
	}
	user, err := s.send.GetUser.Send(r.Context(), queries.GetUser{Actor: actor, UserID: id})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newUserResponse(user))
}

// setUserPassword checks the body before the path id: both are 400s, and the body's
// size and media type (413, 415) come first anyway.
func (s *server) setUserPassword(w http.ResponseWriter, r *http.Request) error {
	var req setPasswordRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	actor, id, err := s.target(w, r)
	if err != nil {
		return err
	}
	msg := commands.SetUserPassword{Actor: actor, UserID: id, Password: req.Password.value, ClientAddr: s.clientAddr(r)}
	if _, err := s.send.SetUserPassword.Send(r.Context(), msg); err != nil {
		return err
	}
	return writeStatus(w, http.StatusNoContent)
}

// setAdmin grants (PUT) or revokes (DELETE) the admin role; asking for the role the
// user already has succeeds and changes nothing.
func (s *server) setAdmin(admin bool) handler {
	return onTarget(s, s.send.SetAdmin, func(actor domain.Actor, id string) commands.SetAdmin {
		return commands.SetAdmin{Actor: actor, UserID: id, Admin: admin}
	})
}

// setActive reactivates (PUT) or inactivates (DELETE, the soft delete) a user;
// asking for the state the user is already in succeeds and changes nothing.
func (s *server) setActive(active bool) handler {
	return onTarget(s, s.send.SetActive, func(actor domain.Actor, id string) commands.SetActive {
		return commands.SetActive{Actor: actor, UserID: id, Active: active}
	})
}

// onTarget is an endpoint without a body that sends one command about the user in
// the path and answers 204.
func onTarget[M any](s *server, send Sender[M, commands.NoResult], command func(domain.Actor, string) M) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		actor, id, err := s.target(w, r)
		if err != nil {
			return err
		}
		if _, err := send.Send(r.Context(), command(actor, id)); err != nil {
			return err
		}
		return writeStatus(w, http.StatusNoContent)
	}
}

package ports

import (
	"net/http"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// signup registers an account; it opens no session, so the client logs in next.
func (s *server) signup(w http.ResponseWriter, r *http.Request) error {
	var req credentialsRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.refuseSession(w, r); err != nil {
		return err
	}
	res, err := s.send.Signup.Send(r.Context(), commands.Signup{
		Username:   req.Username.value,
		Password:   req.Password.value,
		ClientAddr: s.clientAddr(r),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, signupResponse{ID: res.ID})
}

// login opens a session and hands its token over in the session cookie only, out of
// reach of scripts.
func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	var req credentialsRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.refuseSession(w, r); err != nil {
		return err
	}
	res, err := s.send.Login.Send(r.Context(), commands.Login{
		Username:   req.Username.value,
		Password:   req.Password.value,
		ClientAddr: s.clientAddr(r),
	})
	if err != nil {
		if e, ok := domain.AsError(err); ok && (e.Code == domain.CodeInvalidCredentials || e.Code == domain.CodeRateLimited) {
			notesFrom(r.Context()).username = req.Username.value
		}
		return err
	}
	s.setSessionCookie(w, res.Token)
	return writeStatus(w, http.StatusNoContent)
}

// logout deletes the session row, so a copy of the cookie kept anywhere stops working
// too, and removes the cookie.
func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	actor, err := s.authenticate(w, r)
	if err != nil {
		return err
	}
	if _, err := s.send.Logout.Send(r.Context(), commands.Logout{SessionID: actor.SessionID}); err != nil {
		return err
	}
	// This replaces the refreshed cookie authenticate may have set: its session is
	// gone.
	s.removeSessionCookie(w)
	return writeStatus(w, http.StatusNoContent)
}

func (s *server) me(w http.ResponseWriter, r *http.Request) error {
	actor, err := s.authenticate(w, r)
	if err != nil {
		return err
	}
	user, err := s.send.Me.Send(r.Context(), queries.Me{Actor: actor})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newUserResponse(user))
}

// changeOwnPassword ends the caller's other sessions; the actor carries the session
// that stays.
func (s *server) changeOwnPassword(w http.ResponseWriter, r *http.Request) error {
	var req changePasswordRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	actor, err := s.authenticate(w, r)
	if err != nil {
		return err
	}
	_, err = s.send.ChangeOwnPassword.Send(r.Context(), commands.ChangeOwnPassword{
		Actor:           actor,
		CurrentPassword: req.CurrentPassword.value,
		NewPassword:     req.NewPassword.value,
		ClientAddr:      s.clientAddr(r),
	})
	if err != nil {
		return err
	}
	return writeStatus(w, http.StatusNoContent)
}

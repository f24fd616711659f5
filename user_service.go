package taskwire

import (
	"context"
	"strings"
)

// Signup creates a user. Returns Invalid for a bad email, username or
// password; BadRequest "Email already registered" (checked first) or
// "Username already taken".
func (s *Service) Signup(ctx context.Context, in Signup) (User, error) {
	if err := in.Validate(); err != nil {
		return User{}, err
	}
	if err := s.checkUnique(ctx, s.store, in); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := s.checkUnique(ctx, tx, in); err != nil {
			return err
		}
		u, err = tx.CreateUser(ctx, User{Email: in.Email, Username: in.Username, HashedPassword: hash, CreatedAt: s.now()})
		return err
	})
	if e, ok := AsError(err); ok && e.Kind == Conflict {
		// Lost a race with a concurrent signup between the check and the insert.
		return User{}, s.checkUnique(ctx, s.store, in)
	}
	return u, err
}

func (s *Service) checkUnique(ctx context.Context, r Reader, in Signup) error {
	if _, err := r.UserByEmail(ctx, in.Email); err == nil {
		return Errorf(BadRequest, "Email already registered")
	} else if ErrorKind(err) != NotFound {
		return err
	}
	if _, err := r.UserByUsername(ctx, in.Username); err == nil {
		return Errorf(BadRequest, "Username already taken")
	} else if ErrorKind(err) != NotFound {
		return err
	}
	return nil
}

// errBadLogin is the one answer to every failed login, so a caller cannot
// tell a wrong password from an unknown user.
func errBadLogin() error { return Errorf(Unauthenticated, "Incorrect username or password") }

// Authenticate returns the user whose username (or email) and password
// match. Returns Unauthenticated otherwise.
func (s *Service) Authenticate(ctx context.Context, login, password string) (User, error) {
	var (
		u   User
		err error
	)
	if !storable(login) {
		// No such user can exist; do not ask the database.
		_ = s.hasher.Compare(s.dummyHash(), password)
		return User{}, errBadLogin()
	}
	if strings.Contains(login, "@") {
		u, err = s.store.UserByEmail(ctx, login)
		if ErrorKind(err) == NotFound {
			u, err = s.store.UserByUsername(ctx, login)
		}
	} else {
		u, err = s.store.UserByUsername(ctx, login)
	}
	if ErrorKind(err) == NotFound {
		// Spend the time a real comparison would, so timing does not reveal
		// which usernames exist.
		_ = s.hasher.Compare(s.dummyHash(), password)
		return User{}, errBadLogin()
	}
	if err != nil {
		return User{}, err
	}
	if s.hasher.Compare(u.HashedPassword, password) != nil {
		return User{}, errBadLogin()
	}
	return u, nil
}

// dummyHash returns a hash made with the configured cost, compared against
// when the user does not exist.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy, _ = s.hasher.Hash("taskwire-no-such-user") })
	return s.dummy
}

// User returns the user with the given id. Returns NotFound.
func (s *Service) User(ctx context.Context, id int64) (User, error) {
	return s.store.UserByID(ctx, id)
}

// LookupUser finds a user by exact username or email, for invitations.
// Returns Invalid unless exactly one of them is given; NotFound.
func (s *Service) LookupUser(ctx context.Context, sel UserSelector) (UserRef, error) {
	u, err := resolveUser(ctx, s.store, sel)
	if err != nil {
		return UserRef{}, err
	}
	return UserRef{ID: u.ID, Username: u.Username}, nil
}

func resolveUser(ctx context.Context, r Reader, sel UserSelector) (User, error) {
	n := 0
	for _, set := range []bool{sel.ID != nil, sel.Username != nil, sel.Email != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return User{}, InvalidField("user_id", "Give exactly one of user_id, username or email")
	}
	switch {
	case sel.ID != nil:
		return r.UserByID(ctx, *sel.ID)
	case sel.Username != nil:
		if !storable(*sel.Username) {
			return User{}, Errorf(NotFound, MsgUserNotFound)
		}
		return r.UserByUsername(ctx, *sel.Username)
	default:
		if !storable(*sel.Email) {
			return User{}, Errorf(NotFound, MsgUserNotFound)
		}
		return r.UserByEmail(ctx, *sel.Email)
	}
}

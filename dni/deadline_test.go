package dni

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testKey struct{}

// The lazy deadline answers as context.WithDeadline does, before and after
// its real context is made.
func TestDeadlineCtxActsAsWithDeadline(t *testing.T) {
	closed := func(ctx context.Context) bool {
		select {
		case <-ctx.Done():
			return true
		default:
			return false
		}
	}
	t.Run("live: no error, the earlier deadline, the parent's values", func(t *testing.T) {
		parent, cancelParent := context.WithTimeout(context.WithValue(context.Background(), testKey{}, "v"), time.Hour)
		defer cancelParent()
		ctx, cancel := withDeadline(parent, 2*time.Hour, "192.0.2.1")
		defer cancel()
		assert.NoError(t, ctx.Err())
		d, ok := ctx.Deadline()
		pd, _ := parent.Deadline()
		assert.True(t, ok)
		assert.Equal(t, pd, d, "the parent's deadline is earlier")
		assert.Equal(t, "v", ctx.Value(testKey{}))
		assert.Equal(t, "192.0.2.1", clientOf(ctx))
		assert.Equal(t, "192.0.2.1", ctx.Value(clientKey{}))
		storeCtx, cancelStore := withDeadline(ctx, time.Minute, "")
		defer cancelStore()
		assert.Equal(t, "192.0.2.1", clientOf(storeCtx), "a child deadline reads its parent's client")
		assert.NoError(t, context.Cause(ctx))
		assert.False(t, closed(ctx))
		assert.NoError(t, ctx.Err(), "made by Done, still live")
	})
	t.Run("no client: the parent's", func(t *testing.T) {
		ctx, cancel := withDeadline(context.WithValue(context.Background(), clientKey{}, "198.51.100.7"), time.Hour, "")
		defer cancel()
		assert.Equal(t, "198.51.100.7", clientOf(ctx))
	})
	t.Run("past its deadline before Done", func(t *testing.T) {
		ctx, cancel := withDeadline(context.Background(), 0, "")
		defer cancel()
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
		assert.ErrorIs(t, context.Cause(ctx), context.DeadlineExceeded)
		assert.True(t, closed(ctx), "Done is closed")
		cancel()
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "cancel after the deadline changes nothing")
	})
	t.Run("the deadline passes after Done", func(t *testing.T) {
		ctx, cancel := withDeadline(context.Background(), time.Millisecond, "")
		defer cancel()
		<-ctx.Done() // the test's own timeout fails it if this never closes
		assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	})
	t.Run("parent canceled before Done", func(t *testing.T) {
		parent, cancelParent := context.WithCancel(context.Background())
		ctx, cancel := withDeadline(parent, time.Hour, "")
		defer cancel()
		cancelParent()
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.True(t, closed(ctx))
	})
	t.Run("parent canceled after Done", func(t *testing.T) {
		parent, cancelParent := context.WithCancel(context.Background())
		ctx, cancel := withDeadline(parent, time.Hour, "")
		defer cancel()
		done := ctx.Done()
		cancelParent()
		<-done
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})
	t.Run("canceled before Done", func(t *testing.T) {
		ctx, cancel := withDeadline(context.Background(), time.Hour, "")
		cancel()
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.True(t, closed(ctx), "Done made after cancel is closed")
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	})
	t.Run("canceled after Done", func(t *testing.T) {
		ctx, cancel := withDeadline(context.Background(), time.Hour, "")
		done := ctx.Done()
		cancel()
		<-done
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.ErrorIs(t, context.Cause(ctx), context.Canceled)
	})
	t.Run("a derived context ends with it", func(t *testing.T) {
		ctx, cancel := withDeadline(context.Background(), time.Hour, "")
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		storeCtx, cancelStore := withDeadline(ctx, time.Hour, "")
		defer cancelStore()
		cancel()
		<-child.Done()
		assert.ErrorIs(t, child.Err(), context.Canceled)
		assert.ErrorIs(t, storeCtx.Err(), context.Canceled, "a lazy child sees its parent's end")
	})
}

// Done, Err, Value and cancel may be called concurrently (run with -race).
func TestDeadlineCtxConcurrent(t *testing.T) {
	for range 50 {
		ctx, cancel := withDeadline(context.Background(), time.Hour, "192.0.2.1")
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				switch i {
				case 0:
					<-ctx.Done()
				case 1:
					for ctx.Err() == nil {
						_ = clientOf(ctx)
					}
				case 2:
					_ = context.AfterFunc(ctx, func() {})
				case 3:
					cancel()
				}
			})
		}
		wg.Wait()
		require.True(t, errors.Is(ctx.Err(), context.Canceled))
	}
}

// Canceled before Done and before the deadline, then made after the
// deadline passed: the real context, its children and Cause still say
// Canceled, as Err does.
func TestDeadlineCtxCanceledThenMadeLate(t *testing.T) {
	ctx, cancel := withDeadline(context.Background(), time.Millisecond, "")
	cancel()
	d, _ := ctx.Deadline()
	for time.Now().Before(d) {
		time.Sleep(time.Millisecond) // wait for the deadline to pass
	}
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.ErrorIs(t, context.Cause(ctx), context.Canceled)
	assert.ErrorIs(t, child.Err(), context.Canceled)
}

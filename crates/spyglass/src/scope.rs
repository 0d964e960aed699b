//! Scopes a database handle keeps per thread: "this thread is inside a region where
//! export logging is suspended" or "…is running a delete cautious delete has checked".
//! The state lives on the [`spyglass_db::Db`] (as one of its extensions), so it is
//! neither process-global nor thread-local: a scope on one handle never affects
//! another handle, and a thread's scope never affects other threads sharing the handle.

use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::{self, ThreadId};

/// The threads currently inside a scope, with their nesting depth.
#[derive(Debug, Default)]
pub(crate) struct ThreadScopes(Mutex<HashMap<ThreadId, usize>>);

impl ThreadScopes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadId, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when the calling thread is inside the scope.
    pub(crate) fn inside(&self) -> bool {
        self.lock().contains_key(&thread::current().id())
    }

    /// Runs `f` with the calling thread inside the scope (left again even if `f` panics).
    pub(crate) fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Leave<'a>(&'a ThreadScopes, ThreadId);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                let mut m = self.0.lock();
                if let Some(n) = m.get_mut(&self.1) {
                    *n -= 1;
                    if *n == 0 {
                        m.remove(&self.1);
                    }
                }
            }
        }
        let id = thread::current().id();
        *self.lock().entry(id).or_default() += 1;
        let _leave = Leave(self, id);
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::ThreadScopes;

    #[test]
    fn a_scope_is_per_thread_and_nests() {
        let s = ThreadScopes::default();
        assert!(!s.inside());
        s.enter(|| {
            assert!(s.inside());
            s.enter(|| assert!(s.inside()));
            assert!(s.inside(), "still inside the outer scope");
            std::thread::scope(|t| {
                t.spawn(|| assert!(!s.inside(), "another thread is not inside"));
            });
        });
        assert!(!s.inside());
    }
}

#pragma once
// A lock the driver takes around device page-table updates. Host code never
// blocks on its own: whoever runs the driver supplies the lock (a SystemC
// mutex in the simulator, a no-op in single-threaded unit tests).

namespace hmmsim::host {

struct ILock {
  virtual ~ILock() = default;
  virtual void lock() = 0;
  virtual void unlock() = 0;
};

struct NoLock final : ILock {
  void lock() override {}
  void unlock() override {}
};

class LockGuard {
 public:
  explicit LockGuard(ILock& l) : m_lock(l) { m_lock.lock(); }
  ~LockGuard() { m_lock.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  ILock& m_lock;
};

}  // namespace hmmsim::host

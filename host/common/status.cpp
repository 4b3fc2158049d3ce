#include "host/common/status.h"

namespace hmmsim::host {

const char* to_string(Status s) {
  switch (s) {
    case Status::Ok: return "OK";
    case Status::Inval: return "EINVAL";
    case Status::Fault: return "EFAULT";
    case Status::Perm: return "EPERM";
    case Status::NoEnt: return "ENOENT";
    case Status::Busy: return "EBUSY";
    case Status::Again: return "EAGAIN";
    case Status::NoMem: return "ENOMEM";
    case Status::NotSupp: return "EOPNOTSUPP";
  }
  return "?";
}

}  // namespace hmmsim::host

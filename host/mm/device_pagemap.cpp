#include "host/mm/device_pagemap.h"

#include <cassert>

namespace hmmsim::host {

DevicePagemap& DevicePagemaps::add(std::string name, const void* owner, IPagemapOps* ops,
                                   uint64_t npages) {
  auto m = std::make_unique<DevicePagemap>();
  m->name = std::move(name);
  m->owner = owner;
  m->ops = ops;
  m->base = m_next;
  m->npages = npages;
  m_next += npages;
  m_ref.resize(m_next - kDeviceBase, 0);
  m_maps.push_back(std::move(m));
  return *m_maps.back();
}

DevicePagemap* DevicePagemaps::find(Pfn pfn) {
  for (auto& m : m_maps)
    if (pfn >= m->base && pfn < m->base + m->npages) return m.get();
  return nullptr;
}

void DevicePagemaps::init_page(Pfn pfn) {
  assert(is_device(pfn) && m_ref.at(pfn - kDeviceBase) == 0);
  m_ref[pfn - kDeviceBase] = 1;
}

void DevicePagemaps::get(Pfn pfn) {
  assert(m_ref.at(pfn - kDeviceBase) > 0);
  ++m_ref[pfn - kDeviceBase];
}

void DevicePagemaps::put(Pfn pfn) {
  auto& r = m_ref.at(pfn - kDeviceBase);
  assert(r > 0);
  if (--r == 0) find(pfn)->ops->page_free(pfn);
}

uint32_t DevicePagemaps::refcount(Pfn pfn) const { return m_ref.at(pfn - kDeviceBase); }

}  // namespace hmmsim::host

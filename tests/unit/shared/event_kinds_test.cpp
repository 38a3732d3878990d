#include "shared/event/event_kinds.h"

#include <capnp/message.h>
#include <capnp/schema.h>
#include <gtest/gtest.h>

#include <set>

#include "shared/event/event_json.h"
#include "tests/support/event_kind_examples.h"

namespace octolaunch {
namespace {

using schema::Event;

std::size_t rowsFor(Event::Payload::Which payload,
                    std::optional<schema::Pressure::Resource> resource) {
  std::size_t n = 0;
  for (const auto& kind : kEventKinds) n += kind.payload == payload && kind.resource == resource;
  return n;
}

// The schema is the list: every member of Event.payload has exactly one row, and the pressure
// payload one row per Pressure.Resource; nothing else has a row.
TEST(EventKinds, TableHasOneRowPerSchemaKind) {
  const auto pressure = capnp::Schema::from<schema::Pressure>();
  const auto resources = capnp::Schema::from<schema::Pressure::Resource>().getEnumerants();
  std::size_t kinds = 0;
  for (auto field : capnp::Schema::from<Event::Payload>().getUnionFields()) {
    const auto payload =
        static_cast<Event::Payload::Which>(field.getProto().getDiscriminantValue());
    const auto type = field.getType();
    if (type.isStruct() && type.asStruct() == pressure) {
      for (auto resource : resources) {
        const auto r = static_cast<schema::Pressure::Resource>(resource.getOrdinal());
        EXPECT_EQ(rowsFor(payload, r), 1u)
            << field.getProto().getName().cStr() << "." << resource.getProto().getName().cStr();
        ++kinds;
      }
    } else {
      EXPECT_EQ(rowsFor(payload, std::nullopt), 1u) << field.getProto().getName().cStr();
      ++kinds;
    }
  }
  EXPECT_EQ(kEventKinds.size(), kinds) << "a row names no kind of the schema";
}

TEST(EventKinds, NamesAreUniqueAndSharedPayloadsAgree) {
  std::set<std::string_view> names;
  for (const auto& kind : kEventKinds) {
    EXPECT_TRUE(names.insert(kind.name).second) << kind.name;
    EXPECT_NE(kind.name.find('.'), std::string_view::npos) << kind.name;
    const EventKind* first = findKind(kind.payload);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->shed, kind.shed) << kind.name;
    EXPECT_EQ(first->linking, kind.linking) << kind.name;
    EXPECT_EQ(first->failure, kind.failure) << kind.name;
  }
}

// Every kind is known to the name lookups and the JSON view.
TEST(EventKinds, EveryKindIsNamedAndPrinted) {
  for (const auto& kind : kEventKinds) {
    capnp::MallocMessageBuilder message;
    auto event = message.initRoot<Event>();
    test::initKind(event, kind);
    const Event::Reader reader = event.asReader();
    EXPECT_EQ(findKind(reader), &kind);
    EXPECT_EQ(findKind(kind.name), &kind);
    EXPECT_EQ(kindName(reader), kind.name);
    EXPECT_TRUE(isKnownKind(kind.name));
    EXPECT_EQ(spoolMayShed(reader), kind.shed == ShedPolicy::whenFull) << kind.name;
    const auto json = eventJson(reader);
    EXPECT_EQ(json["kind"], kind.name);
    EXPECT_TRUE(json["data"].is_object()) << kind.name << " has no JSON view";
  }
  EXPECT_EQ(findKind("pressure.disk"), nullptr);
  EXPECT_FALSE(isKnownKind("unknown"));
}

}  // namespace
}  // namespace octolaunch

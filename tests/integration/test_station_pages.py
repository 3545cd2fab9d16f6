"""The liaison committee's pages for the station registry, over HTTP: the list, a new
station with its deputies, a station changed; the same rules as PUT /api/v1/stations."""

from __future__ import annotations

from tests.builders import person
from tests.part2 import deputy, zhang


def setup(api):
    api.city()
    r = api.put("/api/v1/districts/heshan", json={"name": "赫山区"})
    assert r.status_code == 201, r.text
    return zhang(api), deputy(api)


def test_the_liaison_committee_creates_and_changes_a_station_and_its_deputies(api):
    z, li = setup(api)
    me = person(api, "lian.wang", "liaison")
    page = me.get("/ui/stations")
    assert page.status_code == 200 and "还没有联络站" in page.text
    assert 'href="/ui/stations"' in page.text  # in the committee's navigation
    form = me.get("/ui/stations/new")
    assert all(w in form.text for w in ("联络站编码", "所在区县", "赫山区", "实体联络站", "张三", "李四"))
    r = me.form(
        "/ui/stations/new",
        {
            "code": "heshan-02",
            "name": "赫山区龙光桥街道代表联络站",
            "district": "heshan",
            "township": "龙光桥街道",
            "kind": "physical",
            "deputies": [z, li],
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/stations?done=created", r.text
    got = api.get("/api/v1/stations/heshan-02", "liaison").json()
    assert got["name"] == "赫山区龙光桥街道代表联络站" and sorted(got["deputies"]) == sorted([z, li])
    assert got["township"] == "龙光桥街道" and got["kind"] == "physical"
    listed = me.get("/ui/stations?done=created").text
    assert "已新建联络站" in listed and "张三" in listed and "李四" in listed and "赫山区" in listed
    # Changed: another kind, 李四 leaves; the form showed who belonged.
    shown = me.get("/ui/stations/heshan-02").text
    assert shown.count("checked") >= 3  # kind and both deputies
    r = me.form(
        "/ui/stations/heshan-02",
        {"name": "龙光桥网上联络站", "district": "heshan", "kind": "online", "deputies": [z]},
    )
    assert r.status_code == 303, r.text
    got = api.get("/api/v1/stations/heshan-02", "liaison").json()
    assert (got["name"], got["kind"], got["deputies"], got["township"]) == (
        "龙光桥网上联络站",
        "online",
        [z],
        None,
    )


def test_a_refused_station_form_says_why_and_changes_nothing(api):
    z, _ = setup(api)
    api.station("heshan-01", [z])
    before = api.get("/api/v1/stations/heshan-01", "liaison").json()
    me = person(api, "lian.wang", "liaison")
    # A taken code: the API's PUT would replace that station; the page refuses.
    r = me.form(
        "/ui/stations/new",
        {"code": "heshan-01", "name": "重名", "district": "heshan", "kind": "physical"},
    )
    assert r.status_code == 422 and "联络站编码已被使用" in r.text
    # Missing fields, a bad code: beside each field, in Chinese.
    r = me.form("/ui/stations/new", {"code": "坏 编码", "name": "", "district": "heshan", "deputies": [z]})
    assert r.status_code == 422
    assert "请填写联络站名称" in r.text and "请选择联络站类型" in r.text and "联络站编码只能包含" in r.text
    assert "checked" in r.text  # the deputy ticked stays ticked
    # An unknown deputy (a forged form): refused beside the field.
    r = me.form(
        "/ui/stations/heshan-01",
        {"name": "x", "district": "heshan", "kind": "physical", "deputies": ["no-such-deputy"]},
    )
    assert r.status_code == 422 and "进站代表" in r.text
    assert api.get("/api/v1/stations/heshan-01", "liaison").json() == before
    assert [s["code"] for s in api.get("/api/v1/stations", "liaison").json()] == ["heshan-01"]
    # Without the form's token nothing is done.
    r = me.post("/ui/stations/heshan-01", {"name": "x", "district": "heshan", "kind": "physical"})
    assert r.status_code == 403
    assert api.get("/api/v1/stations/heshan-01", "liaison").json() == before
    assert me.get("/ui/stations/nowhere").status_code == 404


def test_only_the_liaison_committee_and_the_operator_manage_stations(api):
    z, _ = setup(api)
    api.station("heshan-01", [z])
    staff = person(api, "zhan.heshan", "station", station_code="heshan-01")
    dep = person(api, "dep.zhang", "deputy", deputy_id=z)
    for who in (staff, dep):
        assert who.get("/ui/stations").status_code == 403
        assert who.get("/ui/stations/heshan-01").status_code == 403
        r = who.post("/ui/stations/heshan-01", {"name": "x", "district": "heshan", "kind": "physical"})
        assert r.status_code == 403
    admin = person(api, "op.admin", "admin")
    assert "赫山区会龙山街道代表联络站" in admin.get("/ui/stations").text

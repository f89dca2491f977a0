from segapp.ordering import natural_key, natural_sorted


def test_numbers_sort_as_numbers_and_letters_without_case():
    names = ["Hook 10", "hook 2", "Hook 1", "Zed", "apple", "Hook"]
    assert sorted(names, key=natural_key) == ["apple", "Hook", "Hook 1", "hook 2", "Hook 10", "Zed"]


def test_lists_sort_by_name(workspace, catalog):
    from tests.factories import make_instance, make_source

    source = make_source(workspace, "javascript")
    for name in ["Hook 10", "Hook 2", "hook 1"]:
        make_instance(source, "webhooks", name=name)
    assert [i.name for i in natural_sorted(source.instances.all())] == [
        "hook 1",
        "Hook 2",
        "Hook 10",
    ]

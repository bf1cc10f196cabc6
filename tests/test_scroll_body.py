"""ScrollBody: a focus change restyles the body alone, which is right only while no rule
styles anything inside a body by the body's focus; the second test keeps that true."""
from __future__ import annotations

import pytest
from app_support import settle
from textual.app import App, ComposeResult
from textual.css.model import SelectorType
from textual.widgets import Static

from widgets.scroll_body import ScrollBody


class BodyApp(App[None]):
    CSS = ".body:focus { outline-left: thick red; }"

    def compose(self) -> ComposeResult:
        with ScrollBody(classes="body"):
            for n in range(20):
                yield Static(f"line {n}")


async def test_a_focus_change_restyles_the_body_alone():
    app = BodyApp()
    async with app.run_test(size=(40, 10)) as pilot:
        body = app.query_one(ScrollBody)
        body.blur()
        await pilot.pause()
        restyled: list[int] = []
        update_nodes = app.stylesheet.update_nodes

        def counted(nodes, animate: bool = False) -> None:
            nodes = list(nodes)
            restyled.append(len(nodes))
            update_nodes(nodes, animate=animate)

        app.stylesheet.update_nodes = counted
        body.focus()
        await pilot.pause()
        assert body.styles.outline_left[0] == "thick" and restyled == [1]
        body.blur()
        await pilot.pause()
        assert body.styles.outline_left[0] == "" and restyled == [1, 1]


@pytest.mark.long
async def test_no_rule_styles_inside_a_body_by_its_focus(studio_app):
    """Every screen with a body opened, then every rule read: a selector that keys a
    descendant on an ancestor's focus must name a widget that is no ScrollBody."""
    app = studio_app()
    async with app.run_test(size=(108, 40)) as pilot:
        await settle(pilot)
        for key in ("enter", "escape", *"oscvrtil"):
            await pilot.press(key)
            await settle(pilot)
        keyed = [
            selector for rule in app.stylesheet.rules for selectors in rule.selector_set
            for selector in selectors.selectors[:-1]
            if {"focus", "focus-within"} & selector.pseudo_classes]
        assert keyed  # (Tabs:focus .-active, DataTable:focus ...)
        matching_a_body = {(SelectorType.UNIVERSAL, ""), (SelectorType.UNIVERSAL, "*")} | {
            (SelectorType.TYPE, name) for name in ("Widget", "ScrollableContainer",
                                                   "VerticalScroll", "ScrollBody")} | {
            (SelectorType.CLASS, "analytics-body"), (SelectorType.ID, "conv-body")}
        for selector in keyed:
            assert (selector.type, selector.name) not in matching_a_body, selector

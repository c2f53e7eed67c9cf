/**
 * A manager sets up a program through the screens: the program, a tier, an earn rule and a
 * reward, then asks the rule simulator what a purchase earns at that tier.
 * Run by loyalty_klodr/tests/test_backend_tour.py in a real Chromium.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const PROGRAM = "Tour Rewards";

function openPrograms() {
    return [
        {
            content: "Open the configuration menu",
            trigger: 'button[data-menu-xmlid="loyalty_klodr.menu_klodr_config"]',
            run: "click",
        },
        {
            content: "Open the programs",
            trigger: 'a[data-menu-xmlid="loyalty_klodr.menu_klodr_programs"]',
            run: "click",
        },
        {
            trigger: ".o_breadcrumb:contains(Programs)",
        },
    ];
}

function addLine(field, tab, values) {
    return [
        {
            content: `Open the ${tab} tab`,
            trigger: `.o_notebook a.nav-link:contains(${tab})`,
            run: "click",
        },
        {
            content: `Add a line to ${field}`,
            trigger: `div[name=${field}] .o_field_x2many_list_row_add a`,
            run: "click",
        },
        ...values.map(([name, value]) => ({
            content: `Set ${name}`,
            trigger: `.modal .o_field_widget[name=${name}] input`,
            run: `edit ${value}`,
        })),
        {
            content: "Save the line",
            trigger: ".modal .o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The line is in the list",
            trigger: `div[name=${field}] .o_data_row:contains(${values[0][1]})`,
        },
    ];
}

registry.category("web_tour.tours").add("klodr_backend_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("loyalty_klodr.menu_klodr_root", "Open the Loyalty app"),
        ...openPrograms(),
        {
            content: "Create a program",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name=name] input",
            run: `edit ${PROGRAM}`,
        },
        // Saved first: the tier and rule forms ask for their program.
        ...stepUtils.saveForm(),
        ...addLine("tier_ids", "Tiers", [["name", "Tour Gold"], ["multiplier", "1.5"]]),
        ...addLine("rule_ids", "Earn Rules", [["name", "Tour base rule"], ["points", "1"], ["spend_unit", "10"]]),
        ...stepUtils.saveForm(),
        {
            content: "Open the rewards catalogue",
            trigger: '[data-menu-xmlid="loyalty_klodr.menu_klodr_rewards"]',
            run: "click",
        },
        {
            content: "Create a reward",
            trigger: ".o_control_panel_main_buttons button.o-kanban-button-new, .o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "Name the reward",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour Tea",
        },
        {
            content: "Choose the program",
            trigger: ".o_field_widget[name=program_id] input",
            run: `edit ${PROGRAM}`,
        },
        {
            trigger: `.o-autocomplete--dropdown-item:contains(${PROGRAM})`,
            run: "click",
        },
        {
            content: "Its cost in points",
            trigger: ".o_field_widget[name=points_cost] input",
            run: "edit 150",
        },
        {
            content: "Its value",
            trigger: ".o_field_widget[name=value] input",
            run: "edit 40",
        },
        ...stepUtils.saveForm(),
        ...openPrograms(),
        {
            content: "Open the program",
            trigger: `.o_data_row td[name=name]:contains(${PROGRAM})`,
            run: "click",
        },
        {
            content: "Simulate",
            trigger: "button[name=action_simulate]",
            run: "click",
        },
        {
            content: "At the tier just created",
            trigger: ".modal .o_field_widget[name=tier_id] input",
            run: "edit Tour Gold",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains(Tour Gold)",
            run: "click",
        },
        {
            content: "A purchase of 1,000",
            trigger: ".modal .o_field_widget[name=amount] input",
            run: "edit 1000",
        },
        {
            content: "1 point per 10 spent, times 1.5 for the tier: 150 points",
            trigger: ".modal .o_field_widget[name=points]:contains(150)",
        },
        {
            content: "The breakdown names the rule",
            trigger: ".modal .o_field_widget[name=breakdown_html]:contains(Tour base rule)",
        },
        {
            content: "Close the simulator",
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

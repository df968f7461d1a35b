"""The demo's problems: arithmetic word problems, unit conversions, a date and a logic question."""

APPLES = "Tom has 3 apples and buys 4 more. How many apples does he have?"
BAT = (
    "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
    "How much does the ball cost in dollars?"
)
CENTIMETRES = "How many centimeters are in 2.5 meters?"
DISTANCE = "A car travels at 60 km per hour for 3 hours. How many kilometers does it travel?"
MINUTES = "How many minutes are in 3.5 hours?"
DISCOUNT = "A shirt costs $20 and is discounted by 25%. What is the sale price in dollars?"
CANDIES = (
    "Sara has 12 candies and gives away one third of them. How many candies does she have left?"
)
WEEKDAY = "Today is Monday. What day of the week will it be in 10 days?"
CATS_CHOICES = (
    "All cats are black",
    "Some cats are black",
    "All cats are animals",
    "No cats are black",
)
CATS = "All cats are animals. Some animals are black. Which statement must be true?\n" + "\n".join(
    f"{letter}) {text}" for letter, text in zip("ABCD", CATS_CHOICES, strict=True)
)

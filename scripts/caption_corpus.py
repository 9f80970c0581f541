"""Seeded generator of synthetic text-to-image captions (training text for fixtures/t5-deep).

Helper module for ``scripts/train_t5_deep.py``; no side effects on import, standard library only.

The prompts the project calibrates and evaluates on (``parti-calibration.txt``, ``long-calibration.txt``,
``long-heldout.txt``) must never be trained on, so the deep fixture learns from captions made up
here instead: a small grammar over hand-written word lists (objects, animals, people, counts,
colours, materials, textures, spatial relations, actions, scenes, weather, lighting, camera and
art styles, and text shown in the image) that writes short prompts (one clause), medium prompts
(two to four sentences) and long dense scene descriptions (up to ~180 words).  ``captions(n, seed)``
is a pure function of its arguments: the same call gives the same list on every machine.

``ngram_overlaps`` is the committed disjointness check: it reports every generated text that
shares a run of ``n`` words (lower-cased, punctuation stripped) with a protected prompt.
"""

from __future__ import annotations

import random
import re

# ---------------------------------------------------------------------------
# word lists
# ---------------------------------------------------------------------------

COLOURS = """red crimson scarlet maroon burgundy orange tangerine amber ochre yellow mustard lemon golden
olive lime green emerald jade mint sage teal turquoise aqua cyan blue navy cobalt azure indigo
violet purple plum lavender lilac magenta fuchsia pink rose salmon coral peach beige cream ivory
white silver grey slate charcoal black brown chocolate chestnut tan khaki copper bronze rust sand
pastel-blue pale-green dusty-pink deep-red bright-yellow dark-green light-grey""".split()

MATERIALS = """wooden oak walnut pine bamboo glass frosted-glass ceramic porcelain clay terracotta marble
granite concrete brick stone steel iron cast-iron aluminium brass copper chrome plastic rubber
leather suede velvet silk linen cotton woollen knitted felt paper cardboard crystal wax resin
enamel lacquered wicker rattan denim tweed canvas cork pewter tin lego""".split()

TEXTURES = """shiny matte glossy dusty cracked polished scratched weathered rusty chipped faded speckled
striped checkered polka-dotted floral embroidered quilted carved engraved painted gilded mossy
frosted wet muddy fuzzy fluffy smooth rough wrinkled crumpled spotless glittering translucent
iridescent patterned woven braided dented tarnished sunbleached""".split()

SIZES = """tiny small little miniature large big huge giant enormous tall short long narrow wide round square
oval hexagonal triangular heart-shaped slender chubby plump lanky""".split()

AGES = """antique vintage old brand-new modern futuristic retro ancient old-fashioned handmade homemade
abandoned broken battered pristine""".split()

MOODS = """cozy calm peaceful busy crowded lonely quiet cheerful gloomy mysterious dreamy eerie serene
chaotic festive nostalgic whimsical dramatic tranquil playful melancholy majestic""".split()

# (singular, plural)
def _nouns(spec: str) -> list[tuple[str, str]]:
    out = []
    for item in spec.split():
        if "/" in item:
            s, p = item.split("/")
        elif item.endswith(("s", "x", "ch", "sh")):
            s, p = item, item + "es"
        elif item.endswith("y") and item[-2] not in "aeiou":
            s, p = item, item[:-1] + "ies"
        else:
            s, p = item, item + "s"
        out.append((s.replace("_", " "), p.replace("_", " ")))
    return out


ANIMALS = _nouns("""cat dog puppy/puppies kitten fox/foxes wolf/wolves bear rabbit hare squirrel hedgehog
raccoon otter beaver badger deer/deer moose/moose elk/elk horse pony/ponies donkey cow sheep/sheep
goat pig llama alpaca camel zebra giraffe elephant rhino hippo lion tiger leopard cheetah panther
jaguar lynx/lynxes monkey gorilla chimpanzee orangutan koala kangaroo panda sloth mouse/mice rat
hamster guinea_pig frog toad turtle tortoise lizard gecko iguana chameleon crocodile snake owl eagle
hawk falcon parrot toucan flamingo peacock swan duck goose/geese chicken rooster pigeon crow raven
sparrow robin hummingbird penguin pelican seagull heron stork octopus/octopuses jellyfish/jellyfish
dolphin whale shark seal walrus/walruses crab lobster starfish/starfish seahorse butterfly/butterflies
bee ladybug dragonfly/dragonflies snail beetle ant spider corgi dachshund poodle husky/huskies
labrador golden_retriever shiba_inu bulldog dalmatian greyhound""")

CREATURES = _nouns("""dragon unicorn robot android alien ghost wizard witch knight pirate astronaut mermaid
fairy/fairies troll goblin giant_snail phoenix/phoenixes griffin yeti sea_monster snowman/snowmen
scarecrow gnome cyborg mummy/mummies vampire""")

PEOPLE = _nouns("""woman/women man/men girl boy child/children baby/babies teenager grandmother grandfather
chef baker farmer fisherman/fishermen sailor soldier firefighter doctor nurse scientist teacher
student painter sculptor musician guitarist violinist drummer pianist singer dancer ballerina
skateboarder surfer cyclist runner climber hiker skier gardener carpenter blacksmith tailor
librarian mechanic pilot photographer barista waiter waitress police_officer businesswoman/businesswomen
businessman/businessmen monk nun clown magician juggler cowboy shepherd beekeeper potter""")

OBJECTS = _nouns("""chair table desk sofa armchair bench stool bed lamp lantern candle clock mirror vase
bowl cup mug teapot kettle plate spoon fork knife/knives jar bottle basket bucket box/boxes suitcase
backpack umbrella hat cap scarf/scarves glove boot shoe sneaker sock jacket coat dress sweater
shirt tie ring necklace watch/watches book notebook pencil pen paintbrush/paintbrushes easel
guitar violin piano drum trumpet saxophone accordion harp globe telescope microscope camera
radio television/televisions laptop typewriter telephone headphone robot_toy teddy_bear doll ball
balloon kite skateboard surfboard bicycle tricycle scooter wheelbarrow ladder shovel hammer wrench
saw axe rope chain key/keys lock padlock coin wallet map compass/compasses hourglass/hourglasses
candlestick chandelier fan pillow blanket rug curtain window door gate fence mailbox/mailboxes
bench_press dumbbell trophy/trophies medal crown sword shield helmet mask feather shell pebble
rock crystal_ball snow_globe birdcage fishbowl aquarium flowerpot watering_can tent sleeping_bag
campfire canoe paddle anchor barrel crate sack toolbox/toolboxes sewing_machine chessboard
puzzle_piece dice/dice playing_card envelope parcel postcard poster painting photograph
sculpture statue fountain streetlight traffic_light signpost billboard""")

VEHICLES = _nouns("""car truck bus/buses van taxi/taxis motorcycle tractor train tram subway_car airplane
helicopter hot-air_balloon sailboat rowboat ferry/ferries yacht submarine spaceship rocket
jeep convertible limousine ambulance fire_truck school_bus double-decker_bus steam_locomotive
pickup_truck camper_van cable_car gondola blimp zeppelin go-kart""")

FOOD = _nouns("""apple banana orange pear peach/peaches plum cherry/cherries strawberry/strawberries
lemon lime watermelon pineapple mango/mangoes grape avocado tomato/tomatoes carrot potato/potatoes
onion pumpkin mushroom pepper cucumber egg loaf/loaves croissant bagel pretzel donut muffin
cupcake cake pie cookie pancake waffle sandwich/sandwiches burger hot_dog pizza taco burrito
dumpling noodle_bowl bowl_of_ramen sushi_roll ice_cream_cone popsicle lollipop chocolate_bar
cheese_wheel baguette cinnamon_roll macaron smoothie milkshake coffee_cup teacup wine_glass
lemonade_jug""")

PLANTS = _nouns("""tree oak_tree pine_tree palm_tree willow birch maple cherry_tree bonsai cactus/cacti
fern sunflower rose tulip daisy/daisies lily/lilies orchid lotus/lotuses lavender_bush ivy_vine
bamboo_stalk mushroom_cluster moss_patch succulent houseplant hedge bush/bushes vine poppy/poppies
dandelion water_lily/water_lilies""")

BUILDINGS = _nouns("""house cottage cabin barn farmhouse castle palace tower lighthouse windmill church
chapel temple pagoda mosque cathedral skyscraper apartment_block bridge tunnel treehouse igloo hut
shed greenhouse bakery cafe bookshop library museum theater station factory warehouse garage
stadium observatory/observatories hotel diner gas_station market_stall boathouse treehouse_village
ferris_wheel carousel""")

ALL_THINGS = OBJECTS + VEHICLES + FOOD + PLANTS
ALL_ANIMATE = ANIMALS + CREATURES + PEOPLE

COUNTS = [("two", 2), ("three", 3), ("four", 4), ("five", 5), ("six", 6), ("seven", 7), ("eight", 8),
          ("nine", 9), ("ten", 10), ("eleven", 11), ("twelve", 12), ("a dozen", 12), ("a pair of", 2),
          ("several", 3), ("a few", 3), ("many", 9), ("dozens of", 30), ("countless", 50), ("3", 3),
          ("5", 5), ("7", 7), ("20", 20), ("100", 100), ("a couple of", 2), ("a row of", 6),
          ("a stack of", 5), ("a pile of", 8), ("a group of", 5), ("a crowd of", 40), ("hundreds of", 300)]

RELATIONS = ["on top of", "under", "beneath", "beside", "next to", "behind", "in front of",
             "to the left of", "to the right of", "inside", "leaning against", "hanging above",
             "floating over", "balanced on", "stacked on", "near", "far away from", "facing",
             "across from", "at the foot of", "on the edge of", "in the shadow of", "tied to",
             "wrapped around", "half hidden behind", "reflected in", "sinking into", "perched on",
             "resting against", "surrounded by", "peeking out of", "piled around", "orbiting",
             "circling", "chasing", "guarding", "diagonally opposite"]

ACTIONS = ["sitting", "sleeping", "standing", "jumping", "running", "dancing", "swimming", "flying",
           "reading a newspaper", "reading a book", "drinking tea", "eating breakfast", "playing chess",
           "playing the piano", "playing the violin", "playing the guitar", "juggling oranges",
           "riding a bicycle", "riding a skateboard", "riding a horse", "painting a canvas",
           "building a sandcastle", "flying a kite", "watering the plants", "baking bread",
           "writing a letter", "talking on the phone", "looking through a telescope", "taking a selfie",
           "waving hello", "laughing", "yawning", "stretching", "climbing a ladder", "carrying a box",
           "pushing a cart", "pulling a wagon", "fishing", "knitting a scarf", "doing yoga",
           "meditating", "singing", "whistling", "blowing bubbles", "holding an umbrella",
           "catching snowflakes", "chasing a ball", "napping in the sun", "staring at the camera",
           "looking out the window", "sweeping the floor", "fixing a bicycle", "repairing a clock",
           "sorting coins", "planting seeds", "feeding the birds", "reading a map", "typing on a laptop",
           "tying a shoelace", "carving a pumpkin", "counting stars", "hiding under a blanket"]

SCENES = ["a sunlit kitchen", "a cluttered attic", "a foggy harbor", "a crowded night market",
          "the surface of the moon", "a snowy mountain pass", "a quiet library", "a busy train station",
          "a flooded street", "a desert canyon", "a tropical beach", "a bamboo forest", "a wheat field",
          "a lavender field", "a rooftop garden", "an underwater cave", "a coral reef", "a space station",
          "a medieval village square", "a neon-lit alley", "a rainy bus stop", "a frozen lake",
          "a mossy forest clearing", "a volcanic island", "a tidy workshop", "a messy bedroom",
          "an empty classroom", "a hospital corridor", "a laundromat", "a greenhouse full of orchids",
          "a candlelit dining room", "a subway platform", "a parking garage", "a gas station at midnight",
          "a sunflower farm", "an orchard", "a vineyard", "a fishing village", "a lighthouse cliff",
          "a salt flat", "a glacier", "a misty swamp", "a savanna", "a rice terrace", "a palace courtyard",
          "a ruined temple", "a carnival", "a circus tent", "a bowling alley", "a roller rink",
          "a recording studio", "a pottery studio", "a flower shop", "a hardware store", "a toy shop",
          "a bakery counter", "a diner booth", "a hotel lobby", "an airport gate", "a cargo ship deck",
          "a mountain lake", "a birch forest", "a city park", "a suburban backyard", "a school playground",
          "a farmers market", "a snowy village", "an autumn forest", "a cherry blossom garden",
          "a marble staircase", "a spiral staircase", "a dusty road", "a cobblestone lane",
          "a highway overpass", "a riverbank", "a waterfall pool", "a cave full of crystals",
          "an alien planet", "a floating island", "a candy landscape", "a chessboard floor",
          "a giant teacup", "the inside of a clock", "a cloud kingdom", "a sunken ship", "a treetop canopy"]

WEATHER = ["in the rain", "in the snow", "in heavy fog", "during a thunderstorm", "on a windy day",
           "under a clear sky", "under heavy clouds", "during a sandstorm", "in a light drizzle",
           "after the rain", "in a blizzard", "on a hazy afternoon", "under a rainbow",
           "as snow begins to fall", "in the summer heat"]

TIMES = ["at dawn", "at sunrise", "in the early morning", "at noon", "in the afternoon", "at golden hour",
         "at sunset", "at dusk", "at twilight", "at night", "at midnight", "under a full moon",
         "under the stars", "during the blue hour"]

SEASONS = ["in spring", "in summer", "in autumn", "in winter", "in late autumn", "in early spring"]

LIGHTING = ["soft window light", "harsh midday sun", "warm lamplight", "cold fluorescent light",
            "flickering candlelight", "bright studio lighting", "dramatic side lighting", "a single spotlight",
            "neon reflections", "dappled sunlight", "moonlight", "backlighting", "rim lighting",
            "diffuse overcast light", "glowing embers", "string lights", "colored gels",
            "a low sun casting long shadows", "light from a television screen", "bioluminescent glow",
            "the glow of a campfire", "light streaming through stained glass", "a flashlight beam",
            "the headlights of a car", "pale morning light", "golden backlight"]

MEDIA = ["a photograph", "a photo", "a polaroid", "a film photograph", "a black and white photograph",
         "an oil painting", "a watercolor painting", "a gouache painting", "an acrylic painting",
         "a pencil sketch", "a charcoal drawing", "an ink drawing", "a pastel drawing", "a woodcut print",
         "a linocut", "a screen print", "a poster", "a comic panel", "a manga panel", "a children's book illustration",
         "a storybook illustration", "a botanical illustration", "a technical drawing", "a blueprint",
         "a 3D render", "a low-poly render", "a clay render", "a claymation still", "pixel art",
         "voxel art", "a vector illustration", "a flat illustration", "a paper cutout", "an origami diorama",
         "a mosaic", "a stained glass window", "a tapestry", "an embroidery", "a fresco", "a mural",
         "a graffiti mural", "a chalk drawing on a sidewalk", "a sticker", "an emoji", "a logo", "an icon",
         "a postage stamp", "a tarot card", "a vintage travel poster", "a movie still", "a video game screenshot",
         "a security camera still", "a scientific diagram", "a map illustration", "a tattoo design"]

STYLES = ["impressionist", "cubist", "surrealist", "art deco", "art nouveau", "baroque", "minimalist",
          "pop art", "steampunk", "cyberpunk", "vaporwave", "gothic", "rococo", "bauhaus", "ukiyo-e",
          "photorealistic", "hyperrealistic", "cel-shaded", "isometric", "hand-drawn", "sketchy", "noir",
          "psychedelic", "pointillist", "expressionist", "naive", "folk art", "retro futurist",
          "mid-century", "brutalist", "kawaii", "ornate", "geometric", "abstract"]

CAMERA = ["close-up", "extreme close-up", "wide shot", "wide-angle shot", "aerial view", "bird's-eye view",
          "top-down view", "low-angle shot", "eye-level shot", "macro shot", "fisheye shot", "telephoto shot",
          "overhead shot", "side view", "front view", "rear view", "three-quarter view", "panoramic view",
          "tilt-shift shot", "long exposure", "cross-section view", "cutaway view"]

LENS = ["shallow depth of field", "deep focus", "soft bokeh", "motion blur", "film grain", "sharp focus",
        "high contrast", "muted colors", "vivid colors", "pastel palette", "monochrome palette",
        "warm tones", "cool tones", "heavy vignette", "lens flare", "crisp detail", "4k", "8k",
        "35mm", "50mm lens", "85mm lens", "f/1.8", "ISO 400", "HDR", "high detail"]

SIGN_KINDS = ["a sign that reads", "a neon sign saying", "a banner reading", "a chalkboard that says",
              "a t-shirt with the words", "a book titled", "a mug printed with", "a label that says",
              "a license plate reading", "a billboard announcing", "a storefront named", "a cake with the words",
              "a flag with the word", "a poster that says", "a speech bubble saying", "graffiti spelling",
              "a doormat reading", "a jar labeled", "a street sign for", "a tiny note that reads"]

SIGN_WORDS = """OPEN CLOSED FRESH BREAD HELLO WELCOME HOME SALE EXIT STOP GO SLOW NO PARKING HOT COFFEE TEA
ICE CREAM PIZZA DINER MOTEL VACANCY LUNA STELLA OTTO ROSA BLOOM SUNNY SIDE TOYS BOOKS RECORDS
JAZZ TACOS GARAGE PHARMACY BAKERY SOUP NOODLES DUMPLINGS LAUNDRY FLOWERS PARK ZOO MUSEUM
PLATFORM 9 LOVE YOU THANKS GOOD LUCK HAPPY BIRTHDAY BE KIND DREAM BIG STAY WILD LATE AGAIN
NOPE YES MAYBE FRAGILE HANDLE WITH CARE THIS WAY UP DANGER QUIET PLEASE BEWARE OF THE CAT
SPACE CADET MOON BASE ROBOT REPAIR KEEP OUT PRIVATE BEACH TICKETS SOLD OUT 24 HOURS 42 1999
2077 ROOM 7 GATE B12 ROUTE 66 CAFÉ NOËL CRÈME BRÛLÉE SMILE""".split()

CLOTHES = ["a red scarf", "a knitted hat", "a yellow raincoat", "a tiny crown", "round glasses",
           "a leather jacket", "a bow tie", "a striped sweater", "a space suit", "a chef's hat",
           "a top hat", "a tutu", "rubber boots", "a denim jacket", "a flower crown", "a cape",
           "a hoodie", "a kimono", "a tuxedo", "a sombrero", "a beanie", "a backpack", "sunglasses",
           "a pearl necklace", "an apron", "a lab coat", "a party hat", "a superhero costume",
           "a suit of armor", "a plaid shirt", "a wool poncho", "mittens", "a name tag",
           "a monocle", "a diving helmet", "a bandana", "a beret", "a trench coat", "overalls"]

SENTENCE_OPENERS = ["In the foreground", "In the background", "Behind them", "Off to one side",
                    "Near the bottom of the frame", "Along the top edge", "To the left", "To the right",
                    "In the distance", "Close to the camera", "Further back", "Just above them",
                    "At the center", "Scattered around", "On the floor", "On the wall", "Overhead",
                    "Below them", "Beyond the window", "Everywhere you look"]

SKY = ["a pink sky streaked with clouds", "a starry sky", "a deep blue sky", "a stormy sky",
       "a hazy orange sky", "a sky full of kites", "a sky with two moons", "a sky full of hot-air balloons",
       "a pale winter sky", "a sky lit by fireworks", "drifting clouds", "an aurora"]

# ---------------------------------------------------------------------------
# grammar
# ---------------------------------------------------------------------------


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" and not word.lower().startswith(("uni", "use", "eu", "one")) else "a"


class _Grammar:
    def __init__(self, rng: random.Random):
        self.r = rng

    def pick(self, items):
        return items[self.r.randrange(len(items))]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    # -- noun phrases -------------------------------------------------------
    def modifiers(self, animate: bool) -> list[str]:
        """0-3 adjectives in English order (size, age, texture, colour, material)."""
        pools = [SIZES, AGES, TEXTURES, COLOURS] + ([] if animate else [MATERIALS])
        k = self.pick([0, 0, 1, 1, 1, 2, 2, 3])
        chosen = sorted(self.r.sample(range(len(pools)), k))
        return [self.pick(pools[i]).replace("-", " ") if pools[i] in (COLOURS, MATERIALS) else self.pick(pools[i])
                for i in chosen]

    def noun(self, kind: str | None = None) -> tuple[tuple[str, str], bool]:
        kind = kind or self.pick(["thing", "thing", "thing", "animal", "animal", "person", "creature", "building"])
        pool = {"thing": ALL_THINGS, "animal": ANIMALS, "person": PEOPLE, "creature": CREATURES,
                "building": BUILDINGS}[kind]
        return self.pick(pool), kind in ("animal", "person", "creature")

    def np(self, kind: str | None = None, plural_ok: bool = True, det: str | None = None) -> tuple[str, bool, bool]:
        """(noun phrase, animate, plural)."""
        (sing, plur), animate = self.noun(kind)
        mods = self.modifiers(animate)
        plural = plural_ok and self.chance(0.3)
        if plural:
            count, _ = self.pick(COUNTS)
            head = " ".join([count] + mods + [plur])
        else:
            words = mods + [sing]
            d = det or self.pick(["a", "a", "a", "the", "the", "one", "a single", "my", "this"])
            if d == "a":
                d = _article(words[0])
            head = " ".join([d] + words)
        if animate and self.chance(0.35):
            head += " wearing " + self.pick(CLOTHES)
        elif not animate and self.chance(0.15):
            head += " made of " + self.pick(MATERIALS).replace("-", " ")
        return head, animate, plural

    def text_in_image(self) -> str:
        n = self.pick([1, 1, 2, 2, 3])
        words = [self.pick(SIGN_WORDS) for _ in range(n)]
        if self.chance(0.3):
            words = [w.capitalize() if w.isalpha() else w for w in words]
        quote = self.pick(['"', '"', "'", "\u201c"])
        close = "\u201d" if quote == "\u201c" else quote
        return f"{self.pick(SIGN_KINDS)} {quote}{' '.join(words)}{close}"

    def where(self) -> str:
        parts = []
        if self.chance(0.7):
            parts.append(self.pick(["in", "in", "in", "inside", "at the edge of", "in the middle of"]) + " "
                         + self.pick(SCENES))
        if self.chance(0.35):
            parts.append(self.pick(TIMES))
        if self.chance(0.25):
            parts.append(self.pick(WEATHER))
        if self.chance(0.12):
            parts.append(self.pick(SEASONS))
        return " ".join(parts)

    def relation_clause(self) -> str:
        obj, _, _ = self.np(self.pick(["thing", "thing", "animal", "building", "person"]))
        return f"{self.pick(RELATIONS)} {obj}"

    def clause(self) -> str:
        """One descriptive clause: subject, optional action, relation and place."""
        subj, animate, plural = self.np()
        parts = [subj]
        if animate and self.chance(0.6):
            act = self.pick(ACTIONS)
            parts.append(("are " if plural else "is ") + act if self.chance(0.3) else act)
        if self.chance(0.6):
            parts.append(self.relation_clause())
        where = self.where()
        if where and self.chance(0.7):
            parts.append(where)
        return " ".join(parts)

    def style_tail(self) -> str:
        options = [lambda: f"{self.pick(STYLES)} style",
                   lambda: f"{self.pick(CAMERA)}",
                   lambda: f"{self.pick(LIGHTING)}",
                   lambda: f"{self.pick(LENS)}",
                   lambda: f"{self.pick(MOODS)} mood",
                   lambda: f"{self.pick(COLOURS).replace('-', ' ')} and {self.pick(COLOURS).replace('-', ' ')} palette"]
        k = self.pick([1, 1, 2, 2, 3, 4])
        return ", ".join(self.pick(options)() for _ in range(k))

    # -- prompt shapes --------------------------------------------------------
    def short(self) -> str:
        forms = [
            lambda: self.clause(),
            lambda: f"{self.pick(MEDIA)} of {self.clause()}",
            lambda: f"{self.clause()}, {self.style_tail()}",
            lambda: f"{self.np()[0]} and {self.np()[0]} {self.pick(RELATIONS)} {self.np()[0]}",
            lambda: f"{self.text_in_image()} {self.pick(['on', 'above', 'beside', 'behind'])} {self.np()[0]}",
            lambda: f"{self.pick(CAMERA)} of {self.np()[0]} {self.where() or 'on a plain background'}",
            lambda: f"{self.pick(STYLES)} {self.pick(MEDIA).split(' ', 1)[-1]} of {self.np()[0]}",
            lambda: f"{self.np()[0]}, {self.np()[0]} and {self.np()[0]} {self.where() or 'on a table'}",
        ]
        text = forms[self.r.randrange(len(forms))]()
        return self.finish(text, period=self.chance(0.3))

    def there_is(self) -> str:
        subj, _, plural = self.np()
        return f"There {'are' if plural else 'is'} {subj} {self.relation_clause()}"

    def someone_acting(self) -> str:
        subj = self.np(self.pick(["animal", "person", "creature"]), plural_ok=False)[0]
        return f"{subj} {self.pick(ACTIONS)} {self.where() or 'nearby'}"

    def camera_sentence(self) -> str:
        cam = self.pick(CAMERA)
        return f"Shot as {_article(cam)} {cam} with {self.pick(LENS)} and {self.pick(LENS)}"

    def colour(self) -> str:
        return self.pick(COLOURS).replace("-", " ")

    def sentence(self) -> str:
        forms = [
            lambda: f"{self.pick(SENTENCE_OPENERS)}, {self.clause()}",
            self.there_is,
            lambda: f"The scene is lit by {self.pick(LIGHTING)}",
            lambda: f"{self.pick(SENTENCE_OPENERS)} {self.pick(['stands', 'sits', 'hangs', 'lies', 'rests', 'floats'])} "
                    f"{self.np(plural_ok=False)[0]}",
            lambda: f"It is {self.pick(MEDIA)} in a {self.pick(STYLES)} style",
            lambda: f"{self.text_in_image()} {self.pick(['hangs', 'is visible', 'appears', 'glows'])} "
                    f"{self.pick(RELATIONS)} {self.np()[0]}",
            lambda: f"The colors are mostly {self.colour()}, {self.colour()} and {self.colour()}",
            lambda: f"Above everything is {self.pick(SKY)}",
            self.someone_acting,
            self.camera_sentence,
            lambda: f"The mood is {self.pick(MOODS)} and {self.pick(MOODS)}",
            self.clause,
        ]
        return self.finish(forms[self.r.randrange(len(forms))](), period=True)

    def medium(self) -> str:
        return " ".join(self.sentence() for _ in range(self.pick([2, 2, 3, 3, 4])))

    def long(self, target_words: int) -> str:
        first = self.finish(f"{self.pick(MEDIA)} of {self.clause()}", period=True)
        sents = [first]
        while sum(len(s.split()) for s in sents) < target_words:
            sents.append(self.sentence())
        if self.chance(0.6):
            sents.append(self.finish(self.style_tail(), period=True))
        return " ".join(sents)

    def finish(self, text: str, period: bool) -> str:
        text = re.sub(r"\s+", " ", text).strip()
        if self.chance(0.5) or period:
            text = text[0].upper() + text[1:]
        return text + ("." if period and not text.endswith((".", "!", "?")) else "")


def captions(n: int, seed: int, mix=(0.5, 0.3, 0.2), long_words=(70, 170), words=(10, 200)) -> list[str]:
    """n distinct captions of words[0]..words[1] words (short / medium / long drawn in the
    proportions of mix; short drafts under the minimum are drawn again), seeded."""
    rng = random.Random(seed)
    g = _Grammar(rng)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        u = rng.random()
        if u < mix[0]:
            text = g.short()
        elif u < mix[0] + mix[1]:
            text = g.medium()
        else:
            text = g.long(rng.randint(*long_words))
        key = text.lower()
        if words[0] <= len(text.split()) <= words[1] and key not in seen:
            seen.add(key)
            out.append(text)
    return out


# ---------------------------------------------------------------------------
# disjointness check
# ---------------------------------------------------------------------------

def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['\u2019][a-z]+)?", text.lower())


def ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def ngram_overlaps(texts: list[str], protected: list[str], n: int = 8) -> list[tuple[int, str]]:
    """(index, shared n-gram) for every text that shares an n-word run with a protected prompt."""
    banned: set[tuple[str, ...]] = set()
    for p in protected:
        banned |= ngrams(words_of(p), n)
    hits = []
    for i, t in enumerate(texts):
        for g in ngrams(words_of(t), n):
            if g in banned:
                hits.append((i, " ".join(g)))
                break
    return hits


def longest_shared_run(texts: list[str], protected: list[str], max_n: int = 12) -> int:
    """The longest n (<= max_n) such that some text shares an n-word run with a protected prompt."""
    best = 0
    for n in range(1, max_n + 1):
        if ngram_overlaps(texts, protected, n):
            best = n
        else:
            break
    return best
